"""Stories: generated stories handed over by generation jobs, judged by the quality gates."""

from django.conf import settings
from django.db import IntegrityError, transaction
from rapidfuzz import fuzz, process

from ..checks import split_paragraphs, story_checks, trim_to_two
from ..gates import GatePolicy
from ..models import Adjudication, Story


def story_add_generated(
    *, topic_id: int, theme_id: int, sample_index: int, text: str, provenance: dict
) -> Story | None:
    """Store one generated story, judged by the quality gates; None when a re-delivered task
    already stored this sample of this job. ``provenance``: Provenance fields.

    With trimming on, a story past two paragraphs whose first two are complete is judged (and
    reviewed, and exported) as those two: an automatic edit beside the original. A story that
    fails a reject gate is stored rejected, with the decision recorded as the automatic checks'.
    """
    policy = GatePolicy.current()
    trimmed = trim_to_two(text) if policy.trim else None
    finish_reason = provenance.get("finish_reason", "")
    story = Story(
        topic_id=topic_id,
        text=text,
        sample_index=sample_index,
        auto_edited_text=trimmed or "",
        original_paragraph_count=len(split_paragraphs(text)) if trimmed else None,
        **provenance,
        # A trimmed story ends where we cut it: the token limit no longer applies to it.
        **story_check_fields(
            text=trimmed or text,
            finish_reason="stop" if trimmed else finish_reason,
            theme_id=theme_id,
        ),
    )
    rejections = policy.rejections(story)
    if rejections:
        story.status, story.auto_rejected = Story.Status.REJECTED, True
    try:
        with transaction.atomic():
            story.save()
            if rejections:
                Adjudication.objects.create(
                    story=story,
                    admin=None,
                    from_status=Story.Status.PENDING,
                    to_status=Story.Status.REJECTED,
                    reason=policy.reason(rejections),
                )
    except IntegrityError:
        return None  # this sample of this job is stored already
    return story


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
