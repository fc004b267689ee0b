"""A model judge's suggestions on stories: stored beside the story for reviewers, never a
decision (the story's status is not touched)."""

from django.db import transaction

from ..models import JudgeSuggestion, Story


def story_suggestion_add(
    *,
    story_id: int,
    judge_name: str,
    prompt_version: str,
    answers: dict,
    passed: bool | None,
    error: str = "",
) -> JudgeSuggestion:
    """Store (or replace) what ``judge_name`` with ``prompt_version`` said of the story, and
    keep the story's ``judge_passed`` (the latest reading) in the same transaction."""
    with transaction.atomic():
        suggestion, _ = JudgeSuggestion.objects.update_or_create(
            story_id=story_id,
            judge_name=judge_name,
            prompt_version=prompt_version,
            defaults={"answers": answers, "passed": passed, "error": error[:500]},
        )
        if passed is not None:
            Story.objects.filter(pk=story_id).update(judge_passed=passed)
    return suggestion
