"""The generation console: jobs (launch, watch, cancel, retry), models (edit, test), prompts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import form_errors_text, validation_text
from storyapp.htmx import render_page
from storyapp.workers import waits_for, work_state

from . import selectors
from .forms import JobForm, ModelProfileForm, PromptTemplateForm
from .models import GenerationJob, JobItem, ModelProfile, PromptTemplate
from .services import jobs, registry


@require_GET
@permission_required("generation.view_generationjob", raise_exception=True)
def job_list(request):
    return _job_list_page(request, JobForm())


def _job_list_page(request, form: JobForm):
    """The jobs page; after a refused job, with the form as it was sent and open."""
    page = Paginator(selectors.job_list(), settings.STORYAPP_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    waits_for(rows, lambda job: job.queue_name)
    return render(
        request,
        "generation/job_list.html",
        {
            "page_obj": page,
            "jobs": rows,
            "form": form,
            "form_open": form.is_bound,
            "can_launch": request.user.has_perm("generation.launch_job"),
            "unserved": selectors.queues_without_workers(),
            "has_models": ModelProfile.objects.exists(),
        },
    )


@require_POST
@permission_required("generation.launch_job", raise_exception=True)
def job_new(request):
    form = JobForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            job = jobs.job_create(
                kind=data["kind"],
                model=data["model"],
                selection=data["selection"],
                per_input=data["per_input"],
                until_pass=data["until_pass"] or 0,
                prompt_mode=data["prompt_mode"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, f"Job #{job.pk} queued on {job.queue_name}.")
            return HttpResponseRedirect(job.get_absolute_url())
    else:
        messages.error(request, form_errors_text(form, with_fields=True))
    # Refused: the same page with every input kept, not a redirect to an empty form.
    return _job_list_page(request, form)


@require_GET
@vary_on_headers("HX-Request")
@permission_required("generation.view_generationjob", raise_exception=True)
def job_detail(request, pk: int):
    job = get_object_or_404(
        GenerationJob.objects.select_related("model", "template", "created_by"), pk=pk
    )
    # The page polls two fragments: progress (small, every 2 s) and one page of outputs.
    partial = "job-outputs" if request.htmx and request.htmx.target == "job-outputs" else None
    page = Paginator(selectors.job_outputs(job), settings.STORYAPP_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # One page state for tracked work: it polls while the job can move (not finished, and a
    # worker serves its queue or holds it); otherwise the page says why it waits.
    state = work_state(job, job.queue_name)
    context = {"job": job, "page_obj": page, "outputs": page.object_list, **state}
    if partial is None:
        context.update(
            progress=selectors.job_progress(job),
            quality=selectors.job_quality(job),
            errors=selectors.job_errors(job),
            can_launch=request.user.has_perm("generation.launch_job"),
            unserved=[w for w in selectors.queues_without_workers() if w.queue == job.queue_name],
        )
    return render_page(
        request,
        "generation/job_detail.html",
        context,
        partial=partial or "job-progress",
        finished=not state["polling"],
    )


@require_GET
@permission_required("generation.view_generationjob", raise_exception=True)
def job_item(request, pk: int, item: int):
    """One item of a job: what was asked, what came back (the raw reply, escaped), and why it
    failed; a failed item's reply can be read here in full."""
    row = get_object_or_404(JobItem.objects.select_related("job"), job_id=pk, pk=item)
    fields = {"id": row.pk, "theme_id": row.theme_id, "topic_id": row.topic_id}
    name = selectors.item_names([fields]).get(row.pk, row.key)
    return render(request, "generation/job_item.html", {"item": row, "job": row.job, "name": name})


@require_POST
@permission_required("generation.launch_job", raise_exception=True)
def job_cancel(request, pk: int):
    job = get_object_or_404(GenerationJob, pk=pk)
    if job.is_finished:
        messages.info(request, "The job had already finished.")
    else:
        jobs.job_cancel(job=job)
        messages.success(request, "Cancelled: no new items will start.")
    return HttpResponseRedirect(job.get_absolute_url())


@require_POST
@permission_required("generation.launch_job", raise_exception=True)
def job_retry(request, pk: int):
    job = get_object_or_404(GenerationJob, pk=pk)
    try:
        n = jobs.job_retry_failed(job=job)
    except ValidationError as error:
        messages.error(request, validation_text(error))
    else:
        messages.success(request, f"{n} failed item(s) queued again.")
    return HttpResponseRedirect(job.get_absolute_url())


@require_GET
@permission_required("generation.view_modelprofile", raise_exception=True)
def model_list(request):
    return render(
        request,
        "generation/model_list.html",
        {
            "profiles": ModelProfile.objects.all(),
            "can_edit": request.user.has_perm("generation.change_modelprofile"),
        },
    )


@require_GET
@vary_on_headers("HX-Request")
@permission_required("generation.view_modelprofile", raise_exception=True)
def model_detail(request, name: str):
    profile = get_object_or_404(
        ModelProfile.objects.select_related("base_model", "release"), name=name
    )
    tests = list(profile.tests.all()[:5])
    waiting = [test for test in tests if test.is_waiting]
    # The page state of tracked work (storyapp.workers.work_state), over the waiting tests:
    # poll while one of them can move; otherwise say why it waits.
    states = [work_state(test, profile.queue) for test in waiting]
    context = {
        "profile": profile,
        "tests": tests,
        "can_edit": request.user.has_perm("generation.change_modelprofile"),
        "queue_served": not any(state["no_worker"] for state in states),
        "polling": any(state["polling"] for state in states),
    }
    return render_page(
        request,
        "generation/model_detail.html",
        context,
        partial="model-tests",
        finished=not context["polling"],
    )


@require_http_methods(["GET", "POST"])
@permission_required("generation.change_modelprofile", raise_exception=True)
def model_edit(request, name: str | None = None):
    profile = get_object_or_404(ModelProfile, name=name) if name else None
    form = ModelProfileForm(request.POST or None, instance=profile)
    if profile is not None:
        form.fields["name"].disabled = True
    if request.method == "POST" and form.is_valid():
        fields = {key: form.cleaned_data[key] for key in ModelProfile.EDITABLE_FIELDS}
        try:
            profile, created = registry.model_register(
                name=profile.name if profile else form.cleaned_data["name"], **fields
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"{'Registered' if created else 'Saved'} {profile.name}.")
            return HttpResponseRedirect(profile.get_absolute_url())
    return render(
        request,
        "generation/model_edit.html",
        {"form": form, "profile": profile},
        status=400 if form.errors else 200,
    )


@require_POST
@permission_required("generation.test_modelprofile", raise_exception=True)
def model_test(request, name: str):
    profile = get_object_or_404(ModelProfile, name=name)
    registry.model_test_start(profile=profile)
    messages.info(request, f"Test queued on {profile.queue}; the result appears below.")
    return HttpResponseRedirect(profile.get_absolute_url())


@require_http_methods(["GET", "POST"])
@permission_required("generation.view_prompttemplate", raise_exception=True)
def prompt_list(request):
    can_add = request.user.has_perm("generation.add_prompttemplate")
    form = PromptTemplateForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                template = registry.template_create_version(
                    **{k: form.cleaned_data[k] for k in ("kind", "system", "user", "raw", "note")},
                    actor=request.user,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Added {template.label}; new jobs use it.")
                return HttpResponseRedirect(reverse("generation:prompt_list"))
    return render(
        request,
        "generation/prompt_list.html",
        {
            "templates": PromptTemplate.objects.select_related("created_by"),
            "form": form,
            "can_add": can_add,
        },
        status=400 if form.errors else 200,
    )
