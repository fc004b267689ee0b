"""Rounds of distillation (training.models.Round): each step of the next round is one action
that takes its options from the same step of the previous round.

    round_start(finetune)  round 1: an existing fine-tune, its release, its evaluation
    round_next(round)      round n+1: a stories job written by round n's model
    round_release(round)   its release, with round n's release options
    round_finetune(round)  its fine-tune: round n's base and settings
    round_evaluate(round)  the same held-out topics: the base, round n's model, this round's

The stories jobs of a chain never write for its held-out topics, so every round is measured
on the same topics, none of which any round trained on.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from curation.models import DatasetExport, Topic
from curation.releases import export_create
from generation.models import GenerationJob
from generation.services.jobs import job_create
from storyapp.names import NAME_MAX

from ..models import Evaluation, FineTuneJob, Round
from .evaluation import evaluation_create
from .finetune import finetune_create

FINISHED_JOB = (GenerationJob.Status.SUCCEEDED, GenerationJob.Status.FINISHED_WITH_ERRORS)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _unique_name(base: str, taken) -> str:
    """``base`` cut to fit a name, with -2, -3... when ``taken(name)``."""
    name, n = base[:NAME_MAX], 1
    while taken(name):
        n += 1
        suffix = f"-{n}"
        name = base[: NAME_MAX - len(suffix)] + suffix
    return name


@transaction.atomic
def round_start(*, finetune: FineTuneJob, topics: str = Round.Topics.APPROVED, actor=None) -> Round:
    """Round 1 of a chain: a finished fine-tune, its release, and its latest finished
    evaluation, if any."""
    if finetune.status != FineTuneJob.Status.DONE or finetune.output_model is None:
        raise _refuse("Start a round from a fine-tune that finished.", "finetune_not_done")
    if Round.objects.filter(finetune=finetune).exists():
        raise _refuse(f"{finetune.name} is already a round.", "already_a_round")
    evaluation = (
        Evaluation.objects.filter(profiles=finetune.output_model, status=Evaluation.Status.DONE)
        .order_by("-created_at", "-pk")
        .first()
    )
    return Round.objects.create(
        number=1,
        topics=topics,
        release=finetune.release,
        finetune=finetune,
        evaluation=evaluation,
        created_by=actor,
    )


@transaction.atomic
def round_next(*, round_: Round, actor=None, enqueue: bool = True) -> Round:
    """The round after ``round_``: a stories job written by its model over the same topics
    policy (and the same samples per topic and until-pass as its stories job)."""
    previous = Round.objects.select_for_update().get(pk=round_.pk)
    model = previous.model
    if model is None:
        raise _refuse(
            f"Round {previous.number} has no tuned model yet: its fine-tune must finish first.",
            "no_model",
        )
    if Round.objects.filter(previous=previous).exists():
        raise _refuse(f"Round {previous.number + 1} is started already.", "round_exists")
    earlier = previous.stories_job
    # The chain's held-out topics never get a story: every round is measured on the same
    # topics, none of which it trained on.
    held_out = _held_out(previous)
    topics = Topic.objects.exclude(pk__in=held_out)
    if previous.topics == Round.Topics.APPROVED:
        topics = topics.filter(status=Topic.Status.APPROVED)
    else:
        topics = topics.exclude(status=Topic.Status.REJECTED)
    selection = list(topics.order_by("pk").values_list("pk", flat=True))
    if not selection:
        raise _refuse("No topic to write stories for outside the held-out ones.", "no_topics")
    job = job_create(
        kind=GenerationJob.Kind.STORIES,
        model=model,
        selection=selection,
        per_input=earlier.per_input if earlier else None,
        until_pass=earlier.until_pass if earlier else 0,
        prompt_mode=earlier.prompt_mode if earlier else GenerationJob.PromptMode.CHAT,
        actor=actor,
        enqueue=enqueue,
    )
    return Round.objects.create(
        number=previous.number + 1,
        topics=previous.topics,
        previous=previous,
        stories_job=job,
        created_by=actor,
    )


def _held_out(round_: Round | None) -> set[int]:
    """The topics the chain's evaluations held out, up to ``round_``."""
    topics: set[int] = set()
    while round_ is not None:
        if round_.evaluation is not None:
            topics.update(round_.evaluation.topic_ids)
        round_ = round_.previous
    return topics


def _step(round_: Round) -> tuple[Round, Round]:
    """The round read again and locked (a second click waits, then finds the step done), and
    the round before it."""
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.previous is None:
        raise _refuse("Round 1 is made of existing work: nothing to start.", "first_round")
    return round_, round_.previous


@transaction.atomic
def round_release(*, round_: Round, actor=None, enqueue: bool = True) -> DatasetExport:
    """The round's release, with the previous round's release options (a models filter also
    takes the round's model)."""
    round_, previous = _step(round_)
    job = round_.stories_job
    if round_.release_id:
        raise _refuse("This round has its release already.", "release_exists")
    if job is None or job.status not in FINISHED_JOB:
        raise _refuse("Release the round once its stories job has finished.", "job_not_done")
    before = previous.release
    if before is None:
        raise _refuse(f"Round {previous.number} has no release to copy.", "no_release")
    models = list(before.models_filter)
    if models and job.model.name not in models:
        models.append(job.model.name)
    release = export_create(
        name=_unique_name(
            f"{before.name}-r{round_.number}",
            lambda n: DatasetExport.objects.filter(name=n).exists(),
        ),
        fmt=before.format,
        min_score=before.min_score,
        models=models,
        themes=before.themes_filter,
        use_edits=before.use_edits,
        val_fraction=before.val_fraction,
        seed=before.seed,
        actor=actor,
        enqueue=enqueue,
    )
    round_.release = release
    round_.save(update_fields=["release"])
    return release


@transaction.atomic
def round_finetune(*, round_: Round, actor=None, enqueue: bool = True) -> FineTuneJob:
    """The round's fine-tune: the previous round's base and settings, on the round's release."""
    round_, previous = _step(round_)
    if round_.finetune_id:
        raise _refuse("This round has its fine-tune already.", "finetune_exists")
    if round_.release is None or round_.release.status != DatasetExport.Status.DONE:
        raise _refuse("Fine-tune once the round's release is written.", "release_not_done")
    before = previous.finetune
    if before is None:
        raise _refuse(f"Round {previous.number} has no fine-tune to copy.", "no_finetune")
    finetune = finetune_create(
        release=round_.release,
        base=before.base,
        name=_unique_name(
            f"{before.base.name}-r{round_.number}",
            lambda n: (
                FineTuneJob.objects.filter(name=n).exists()
                or before.base.__class__.objects.filter(name=n).exists()
            ),
        ),
        method=before.method,
        epochs=before.epochs,
        learning_rate=before.learning_rate,
        max_length=before.max_length,
        batch_size=before.batch_size,
        seed=before.seed,
        lora_rank=before.lora_rank,
        lora_alpha=before.lora_alpha,
        lora_dropout=before.lora_dropout,
        lora_targets=before.lora_targets,
        actor=actor,
        enqueue=enqueue,
    )
    round_.finetune = finetune
    round_.save(update_fields=["finetune"])
    return finetune


@transaction.atomic
def round_evaluate(*, round_: Round, actor=None, enqueue: bool = True) -> Evaluation:
    """Held-out evaluation of the round's model against the base and the previous round's
    model, on topics outside the round's release, as many and with the same seed as before."""
    round_, previous = _step(round_)
    model = round_.model
    if model is None:
        raise _refuse("Evaluate once the round's fine-tune has finished.", "no_model")
    if round_.evaluation_id:
        raise _refuse("This round has its evaluation already.", "evaluation_exists")
    before = previous.evaluation
    base = round_.finetune.base if round_.finetune else None
    profiles = [p for p in (base, previous.model, model) if p is not None]
    # The previous round's held-out topics, so the rounds are measured on the same topics
    # (the stories jobs of the chain never wrote for them).
    evaluation = evaluation_create(
        profiles=list(dict.fromkeys(profiles)),
        release=round_.release,
        topic_ids=list(before.topic_ids) if before and before.topic_ids else None,
        n_topics=40,
        seed=before.seed if before else 42,
        sampling=before.sampling if before and before.sampling else None,
        actor=actor,
        enqueue=enqueue,
    )
    round_.evaluation = evaluation
    round_.save(update_fields=["evaluation"])
    return evaluation
