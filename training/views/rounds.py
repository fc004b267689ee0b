"""Rounds of distillation: every chain of rounds with its figures and chart, and the one
action that starts each next step (training.services.rounds)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from storyapp.charts import interval_chart
from storyapp.errors import validation_text

from ..models import FineTuneJob, Round
from ..round_results import round_chains
from ..services import rounds as steps


def _chart(chain: list[dict]):
    """Passed as written on held-out topics, in percent with 95% intervals: the base, then
    each round's model."""
    points = []
    first = chain[0]
    if first["base_passed"]:
        b = first["base_passed"]
        points.append(("base", 100 * b["rate"], 100 * b["low"], 100 * b["high"]))
    for figures in chain:
        p = figures["passed"]
        label = f"round {figures['round'].number}"
        if p:
            points.append((label, 100 * p["rate"], 100 * p["low"], 100 * p["high"]))
        else:
            points.append((label, None, None, None))
    return interval_chart(
        points,
        title="Passed as written on held-out topics, by round (95% intervals)",
        x_label="Model",
        y_label="Passed as written (%)",
    )


@require_GET
@permission_required("training.view_finetunejob", raise_exception=True)
def round_list(request):
    chains = round_chains()
    return render(
        request,
        "training/rounds.html",
        {
            "chains": [{"rounds": chain, "chart": _chart(chain)} for chain in chains],
            "can_launch": request.user.has_perm("training.launch_finetune"),
            "startable": FineTuneJob.objects.filter(
                status=FineTuneJob.Status.DONE, output_model__isnull=False, round__isnull=True
            ).select_related("output_model")[:50],
            "topics_choices": Round.Topics.choices,
        },
    )


# Each step's service, and the permission it needs beside training.launch_finetune.
STEPS: dict[str, tuple[Callable[..., object], str | None]] = {
    "next": (steps.round_next, "generation.launch_job"),
    "release": (steps.round_release, "curation.download_export"),
    "finetune": (steps.round_finetune, None),
    "evaluate": (steps.round_evaluate, None),
}


@require_POST
@permission_required("training.launch_finetune", raise_exception=True)
def round_start(request):
    name = request.POST.get("finetune", "")
    if "\x00" in name:  # PostgreSQL refuses NUL in a text literal: no fine-tune has one
        raise Http404("No such fine-tune.")
    finetune = get_object_or_404(FineTuneJob, name=name)
    topics = request.POST.get("topics") or Round.Topics.APPROVED
    if topics not in Round.Topics.values:
        messages.error(request, f"Unknown topics policy {topics!r}.")
    else:
        try:
            steps.round_start(finetune=finetune, topics=topics, actor=request.user)
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, f"Round 1: {finetune.name}.")
    return HttpResponseRedirect(reverse("training:round_list"))


@require_POST
@permission_required("training.launch_finetune", raise_exception=True)
def round_step(request, pk: int, step: str):
    round_ = get_object_or_404(Round.objects.select_related("previous"), pk=pk)
    if step not in STEPS:
        raise Http404("No such step of a round.")
    service, permission = STEPS[step]
    if permission and not request.user.has_perm(permission):
        raise PermissionDenied
    try:
        made = service(round_=round_, actor=request.user)
    except ValidationError as error:
        messages.error(request, validation_text(error))
        return HttpResponseRedirect(reverse("training:round_list"))
    messages.success(request, f"Started: {made}.")
    return HttpResponseRedirect(reverse("training:round_list"))
