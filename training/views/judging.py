"""The model judge: ask it about an evaluation's pairs or about stories, follow a run."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from curation.services.suggestions import stories_for_judge
from generation.models import ModelProfile
from generation.selectors import judge_profiles
from storyapp.errors import bad_request, validation_text
from storyapp.htmx import render_page
from storyapp.workers import work_state

from ..judge_results import judge_pair_results
from ..models import Evaluation, JudgeRun
from ..services.judge_runs import MAX_STORIES, judge_run_create


def _judge_from(request) -> ModelProfile | None:
    name = request.POST.get("judge", "")
    return judge_profiles().filter(name=name).first()


@require_POST
@permission_required("training.launch_finetune", raise_exception=True)
def evaluation_judge(request, pk: int):
    evaluation = get_object_or_404(Evaluation, pk=pk)
    profile = _judge_from(request)
    if profile is None:
        messages.error(request, "Pick a model with the role judge.")
        return HttpResponseRedirect(evaluation.get_absolute_url())
    try:
        run = judge_run_create(judge_profile=profile, evaluation=evaluation, user=request.user)
    except ValidationError as error:
        messages.error(request, validation_text(error))
        return HttpResponseRedirect(evaluation.get_absolute_url())
    messages.success(request, f"Judge run #{run.pk} queued: {run.total} verdicts to ask for.")
    return HttpResponseRedirect(run.get_absolute_url())


@require_http_methods(["GET", "POST"])
@permission_required("training.launch_finetune", raise_exception=True)
def judge_stories(request):
    """Confirm, then ask a judge about the stories a story-browser filter selects."""
    query = request.GET.copy()
    query.pop("page", None)
    try:
        ids, count = stories_for_judge(query, limit=MAX_STORIES + 1)
    except ValidationError as error:
        return bad_request(request, f"Invalid filter: {validation_text(error)}")
    if request.method == "POST":
        profile = _judge_from(request)
        if profile is None:
            messages.error(request, "Pick a model with the role judge.")
        else:
            try:
                run = judge_run_create(judge_profile=profile, story_ids=ids, user=request.user)
            except ValidationError as error:
                messages.error(request, validation_text(error))
            else:
                messages.success(request, f"Judge run #{run.pk} queued: {run.total} stories.")
                return HttpResponseRedirect(run.get_absolute_url())
    return render(
        request,
        "training/judge_stories.html",
        {
            "count": count,
            "too_many": count > MAX_STORIES,
            "max_stories": MAX_STORIES,
            "judges": judge_profiles(),
            "query": query.urlencode(),
        },
    )


@require_GET
@vary_on_headers("HX-Request")
@permission_required("training.view_evaluation", raise_exception=True)
def judge_run_detail(request, pk: int):
    run = get_object_or_404(JudgeRun.objects.select_related("judge", "evaluation"), pk=pk)
    context = {
        "run": run,
        "results": judge_pair_results(run) if run.kind == JudgeRun.Kind.PAIRS else None,
        "story_browser": reverse("curation:story_browser"),
        **work_state(run, run.judge.queue),
    }
    return render_page(
        request,
        "training/judge_run_detail.html",
        context,
        partial="judge-status",
        finished=not context["polling"],
    )
