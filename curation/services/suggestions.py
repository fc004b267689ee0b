"""A model judge's suggestions on stories: stored beside the story for reviewers, never a
decision (the story's status is not touched)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..forms import StoryFilterForm
from ..models import JudgeSuggestion, Story
from ..selectors import story_list


def stories_for_judge(query, *, limit: int) -> tuple[list[int], int]:
    """The ids of the stories a story-browser query string selects (at most ``limit``, in the
    browser's order) and how many it selects: what an admin asks a judge about.
    ValidationError names a bad filter."""
    form = StoryFilterForm(query)
    if not form.is_valid():
        raise ValidationError(form.errors.as_text(), code="story_filter")
    stories = story_list(filters=form.cleaned_data)
    return list(stories.values_list("pk", flat=True)[:limit]), stories.count()


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
