"""Held-out evaluations: launch, and the results per model."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from generation.selectors import judge_profiles
from storyapp.errors import bad_request, form_errors_text, validation_text
from storyapp.htmx import render_page
from storyapp.workers import work_state

from ..forms import EvaluationForm
from ..judge_results import judge_pair_results, latest_pair_run
from ..models import Evaluation
from ..selectors import comparison_results, evaluation_results
from ..services.evaluation import evaluation_create
from ..tasks import QUEUE


def _judge_context(request, evaluation: Evaluation) -> dict:
    """The model judge's section: outside the status fragment the page polls, so a poll
    does not ask for it."""
    if request.htmx:
        return {}
    run = latest_pair_run(evaluation)
    return {
        "judge_run": run,
        "judge_results": judge_pair_results(run) if run else None,
        "judges": judge_profiles(),
        "can_launch": request.user.has_perm("training.launch_finetune"),
    }


@require_GET
@permission_required("training.view_evaluation", raise_exception=True)
def evaluation_list(request):
    page = Paginator(
        Evaluation.objects.select_related("release").prefetch_related("profiles"),
        settings.STORYAPP_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "training/evaluation_list.html",
        {
            "page_obj": page,
            "evaluations": page.object_list,
            "form": EvaluationForm(),
            "can_launch": request.user.has_perm("training.launch_finetune"),
        },
    )


@require_POST
@permission_required("training.launch_finetune", raise_exception=True)
def evaluation_new(request):
    form = EvaluationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            evaluation = evaluation_create(
                profiles=list(data["profiles"]),
                release=data["release"],
                topic_ids=data["topics"],
                n_topics=data["n_topics"],
                seed=data["seed"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, f"Evaluation #{evaluation.pk} queued.")
            return HttpResponseRedirect(evaluation.get_absolute_url())
    else:
        messages.error(request, form_errors_text(form, with_fields=True))
    return HttpResponseRedirect(reverse("training:evaluation_list"))


@require_GET
@vary_on_headers("HX-Request")
@permission_required("training.view_evaluation", raise_exception=True)
def evaluation_detail(request, pk: int):
    evaluation = get_object_or_404(Evaluation.objects.select_related("release"), pk=pk)
    results = evaluation.results or evaluation_results(evaluation)
    context = {
        "evaluation": evaluation,
        "results": sorted(results.items()),
        "comparisons": comparison_results(Evaluation.objects.filter(pk=pk)),
        "done": evaluation.samples.count(),
        "total": len(evaluation.topic_ids) * evaluation.profiles.count(),
        **work_state(evaluation, QUEUE),
        **_judge_context(request, evaluation),
    }
    return render_page(
        request,
        "training/evaluation_detail.html",
        context,
        partial="evaluation-status",
        finished=not context["polling"],
    )


# Verdict filters of an evaluation's stories page.
SAMPLE_VERDICTS = {
    "passed": Q(passed=True),
    "failed": Q(passed=False, error=""),
    "repaired": Q(repaired=True),
    "not-usable": Q(usable=False, error=""),
    "not-written": ~Q(error=""),
}


@require_GET
@permission_required("training.view_evaluation", raise_exception=True)
def evaluation_stories(request, pk: int):
    """The stories an evaluation wrote, read as written, with the automatic verdicts beside
    each; per model and per verdict. Reviewers never see it (no training.view_evaluation):
    the same stories are blind in /compare/."""
    evaluation = get_object_or_404(Evaluation, pk=pk)
    models = list(evaluation.profiles.order_by("name"))
    samples = evaluation.samples.select_related("model", "topic__theme").order_by(
        "topic_id", "model__name", "pk"
    )
    model = request.GET.get("model", "")
    if model and model not in {profile.name for profile in models}:
        return bad_request(request, "No model of this evaluation has that name.")
    if model:
        samples = samples.filter(model__name=model)
    verdict = request.GET.get("verdict", "")
    if verdict in SAMPLE_VERDICTS:
        samples = samples.filter(SAMPLE_VERDICTS[verdict])
    page = Paginator(samples, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "training/evaluation_stories.html",
        {
            "evaluation": evaluation,
            "page_obj": page,
            "samples": page.object_list,
            "models": models,
            "model": model,
            "verdict": verdict if verdict in SAMPLE_VERDICTS else "",
            "verdicts": list(SAMPLE_VERDICTS),
            "filter_query": urlencode(
                {key: value for key, value in (("model", model), ("verdict", verdict)) if value}
            ),
        },
    )
