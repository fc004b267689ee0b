"""Stories: generated stories handed over by generation jobs, with their automatic checks."""

from django.conf import settings
from django.db import transaction
from rapidfuzz import fuzz, process

from ..checks import story_checks
from ..models import Story


@transaction.atomic
def story_add_generated(
    *, topic_id: int, theme_id: int, sample_index: int, text: str, provenance: dict
) -> int:
    """Store one generated story with its checks; returns 1, or 0 when a re-delivered task
    already stored this sample of this job. ``provenance``: Provenance fields."""
    story = Story(
        topic_id=topic_id,
        text=text,
        sample_index=sample_index,
        **provenance,
        **story_check_fields(
            text=text, finish_reason=provenance.get("finish_reason", ""), theme_id=theme_id
        ),
    )
    created = Story.objects.bulk_create([story], ignore_conflicts=True)
    return len(created)


def story_check_fields(*, text: str, finish_reason: str, theme_id: int) -> dict:
    """All check fields for a new story, including the near-duplicate search in its theme."""
    fields = story_checks(text, finish_reason)
    others = dict(Story.objects.filter(topic__theme_id=theme_id).values_list("pk", "text")[:5000])
    if others:
        match = process.extractOne(
            text,
            others,
            scorer=fuzz.token_set_ratio,
            score_cutoff=settings.STORYAPP_STORY_SIMILARITY,
        )
        if match:
            fields["near_duplicate_of_id"] = match[2]
    return fields
