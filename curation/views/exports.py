"""Dataset exports: admin-only pages and downloads."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import form_errors_text, validation_text
from storyapp.htmx import render_page
from storyapp.workers import work_state

from .. import selectors
from ..exports.download import export_file_path, export_zip_stream
from ..exports.services import export_create, export_diff
from ..exports.services import export_retry as export_retry_service
from ..forms import ExportForm
from ..models import DatasetExport, Story
from ..tasks import export_run_task

PERMISSION = "curation.download_export"


def _form(data=None):
    return ExportForm(
        data,
        model_names=selectors.exportable_model_names(),
        themes=selectors.approved_themes(),
        initial={
            "name": f"release-{timezone.now():%Y%m%d-%H%M}",
            "format": DatasetExport.Format.CHAT,
            "val_fraction": 0.1,
            "seed": 42,
        },
    )


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def export_list(request):
    releases = list(DatasetExport.objects.select_related("created_by").order_by("created_at", "pk"))
    previous = None
    for release in releases:
        if release.status == DatasetExport.Status.DONE:
            release.diff = export_diff(release, previous)  # type: ignore[attr-defined]  # the page's
            previous = release
    releases.reverse()
    return render(
        request,
        "curation/export_list.html",
        {"releases": releases, "form": _form(), "exportable": Story.objects.exportable().count()},
    )


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def export_new(request):
    form = _form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            export = export_create(
                name=data["name"],
                fmt=data["format"],
                min_score=data["min_score"],
                models=data["models"],
                themes=data["themes"],
                use_edits=data["use_edits"],
                val_fraction=data["val_fraction"],
                seed=data["seed"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, f"Export {export.name} queued: {export.total} stories.")
            return HttpResponseRedirect(export.get_absolute_url())
    else:
        messages.error(request, form_errors_text(form, with_fields=True))
    return HttpResponseRedirect(reverse("curation:export_list"))


@require_GET
@vary_on_headers("HX-Request")
@permission_required(PERMISSION, raise_exception=True)
def export_detail(request, name: str):
    export = get_object_or_404(DatasetExport.objects.select_related("created_by"), name=name)
    card = ""
    if export.status == DatasetExport.Status.DONE:
        path = export_file_path(export, "README.md")
        card = path.read_text(encoding="utf-8") if path else ""
    context = {
        "export": export,
        "files": sorted(export.files.items()),
        "card": card,
        "percent": round(100 * export.progress / export.total) if export.total else 0,
        # Polls only while someone works on it (storyapp.workers.work_state).
        **work_state(export, export_run_task.queue_name),
        "max_attempts": settings.STORYAPP_MAX_ATTEMPTS,
    }
    return render_page(
        request,
        "curation/export_detail.html",
        context,
        partial="export-status",
        finished=not context["polling"],
    )


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def export_retry(request, name: str):
    export = get_object_or_404(DatasetExport, name=name)
    try:
        export_retry_service(export=export)
    except ValidationError as error:
        messages.error(request, validation_text(error))
    else:
        messages.success(request, f"Export {export.name} queued again.")
    return HttpResponseRedirect(export.get_absolute_url())


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def export_file(request, name: str, filename: str):
    export = get_object_or_404(DatasetExport, name=name, status=DatasetExport.Status.DONE)
    path = export_file_path(export, filename)
    if path is None:
        raise Http404("No such file in this release.")
    download_name = f"{export.name}-{filename.replace('/', '-')}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=download_name)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def export_zip(request, name: str):
    export = get_object_or_404(DatasetExport, name=name, status=DatasetExport.Status.DONE)
    response = StreamingHttpResponse(export_zip_stream(export), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.name}.zip"'
    return response
