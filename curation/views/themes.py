"""The theme catalog: list (search, buckets, bulk decisions), theme page, import."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import bad_request, form_errors_text, validation_text
from storyapp.htmx import render_page

from .. import selectors
from ..forms import BUCKET_CHOICES, ThemeDecisionForm, ThemeFilterForm, ThemeImportForm
from ..importing import ThemeFileError, check_import_size, import_limit_text
from ..models import Theme
from ..services import themes as services


def _theme_panel_context(request, *, q: str, status: str, page) -> dict:
    paginator = Paginator(selectors.theme_list(q=q, bucket=status), settings.STORYAPP_PAGE_SIZE)
    page_obj = paginator.get_page(page)
    counts = selectors.theme_bucket_counts(q=q)
    tabs = [
        {"value": value, "label": label, "count": counts[value], "active": value == status}
        for value, label in BUCKET_CHOICES
    ]
    return {
        "page_obj": page_obj,
        "themes": page_obj.object_list,
        "tabs": tabs,
        "q": q,
        "status": status,
        "filter_query": urlencode({"q": q, "status": status}),
        "can_decide": request.user.has_perm("curation.decide_theme"),
    }


@require_GET
@vary_on_headers("HX-Request")
@permission_required("curation.view_theme", raise_exception=True)
def theme_list(request):
    form = ThemeFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(request, f"Invalid filter: {form_errors_text(form)}")
    context = _theme_panel_context(
        request,
        q=form.cleaned_data["q"],
        status=form.cleaned_data["status"],
        page=request.GET.get("page"),
    )
    return render_page(request, "curation/theme_list.html", context, partial="theme-panel")


@require_GET
@vary_on_headers("HX-Request")
@permission_required("curation.view_theme", raise_exception=True)
def theme_detail(request, pk: int):
    theme = get_object_or_404(Theme.objects.select_related("decided_by"), pk=pk)
    return _render_theme_detail(request, theme)


def _render_theme_detail(request, theme: Theme):
    context = {
        "theme": theme,
        "events": selectors.theme_events(theme=theme),
        "can_decide": request.user.has_perm("curation.decide_theme"),
    }
    return render_page(request, "curation/theme_detail.html", context, partial="theme-detail")


@require_POST
@permission_required("curation.decide_theme", raise_exception=True)
def theme_decide(request, pk: int | None = None):
    """Approve, reject or reset one theme (``pk``) or the selected ``ids``.

    htmx requests get the refreshed list panel (or the theme page with ``return=detail``);
    plain form posts are redirected back (post/redirect/get).
    """
    form = ThemeDecisionForm(request.POST)
    if form.is_valid():
        ids = [pk] if pk is not None else form.cleaned_data["ids"]
        try:
            result = services.theme_decide(
                theme_ids=ids,
                decision=form.cleaned_data["action"],
                actor=request.user,
                note=form.cleaned_data["note"],
                override_restriction=form.cleaned_data["override_restriction"],
            )
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            _report_decision(request, form.cleaned_data["action"], result)
    else:
        messages.error(request, form_errors_text(form))

    if request.POST.get("return") == "detail" and pk is not None:
        theme = get_object_or_404(Theme.objects.select_related("decided_by"), pk=pk)
        if request.htmx:
            return _render_theme_detail(request, theme)
        return HttpResponseRedirect(theme.get_absolute_url())

    filters = ThemeFilterForm(request.POST)
    cleaned = filters.cleaned_data if filters.is_valid() else {"q": "", "status": "all"}
    if request.htmx:
        context = _theme_panel_context(
            request, q=cleaned["q"], status=cleaned["status"], page=request.POST.get("page")
        )
        return render(request, "curation/theme_list.html#theme-panel", context)
    query = {"q": cleaned["q"], "status": cleaned["status"], "page": request.POST.get("page", "")}
    return HttpResponseRedirect(reverse("curation:theme_list") + "?" + urlencode(query))


_PAST = {"approve": "Approved", "reject": "Rejected", "reset": "Reset to pending"}


def _report_decision(request, action: str, result: services.DecisionResult) -> None:
    if result.changed:
        names = ", ".join(theme.name for theme in result.changed[:5])
        more = len(result.changed) - 5
        suffix = f" and {more} more" if more > 0 else ""
        messages.success(request, f"{_PAST[action]} {len(result.changed)}: {names}{suffix}.")
    if result.unchanged:
        messages.info(request, f"{len(result.unchanged)} already had that status; left unchanged.")


@require_http_methods(["GET", "POST"])
@permission_required("curation.import_theme", raise_exception=True)
def theme_import(request):
    report = None
    line_errors = None
    form = ThemeImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_import_size(upload.size)  # the size the upload handler measured
            report = services.theme_import(
                content=upload.read(), filename=upload.name, actor=request.user
            )
        except ThemeFileError as error:
            line_errors = error.errors
        except ValidationError as error:
            form.add_error("file", error)
    status = 400 if (line_errors or form.errors) else 200
    return render(
        request,
        "curation/theme_import.html",
        {
            "form": form,
            "report": report,
            "line_errors": line_errors,
            "import_limit": import_limit_text(),
        },
        status=status,
    )
