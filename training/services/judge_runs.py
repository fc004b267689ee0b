"""The model judge's runs, asked for: over an evaluation's blind pairs, or over stories (the
run itself is in judge_work.py)."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from generation.models import ModelProfile

from .. import judge
from ..models import Evaluation, JudgeRun

# At most this many stories in one single-story run (a filter of the story browser).
MAX_STORIES = 2000


def judge_run_create(
    *,
    judge_profile: ModelProfile,
    evaluation: Evaluation | None = None,
    story_ids: list[int] | None = None,
    user=None,
    enqueue: bool = True,
) -> JudgeRun:
    """A judge run over an evaluation's pairs or over stories; ValidationError says why not."""
    if judge_profile.role != ModelProfile.Role.JUDGE:
        raise ValidationError(
            "%(name)s is a %(role)s, not a judge: register a model with the role judge.",
            code="not_a_judge",
            params={"name": judge_profile.name, "role": judge_profile.role},
        )
    if (evaluation is None) == (story_ids is None):
        raise ValidationError("Judge either an evaluation's pairs or stories.", code="judge_what")
    if evaluation is not None:
        pairs = evaluation.pairs.count()
        if not pairs:
            raise ValidationError(
                "This evaluation has no pairs to judge yet.", code="judge_no_pairs"
            )
        run = JudgeRun(
            kind=JudgeRun.Kind.PAIRS,
            evaluation=evaluation,
            prompt_version=judge.PAIR_VERSION,
            total=2 * pairs,
        )
    else:
        ids = sorted(set(story_ids or ()))
        if not ids:
            raise ValidationError("No story to judge.", code="judge_no_stories")
        if len(ids) > MAX_STORIES:
            raise ValidationError(
                "At most %(max)s stories in one run; narrow the filter.",
                code="judge_too_many",
                params={"max": f"{MAX_STORIES:,}"},
            )
        run = JudgeRun(
            kind=JudgeRun.Kind.STORIES,
            story_ids=ids,
            prompt_version=judge.STORY_VERSION,
            total=len(ids),
        )
    run.judge, run.created_by = judge_profile, user
    run.enqueued_at = timezone.now()
    run.save()
    if enqueue:
        from ..tasks import judge_run_enqueue

        judge_run_enqueue(run=run)
    return run
