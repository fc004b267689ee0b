"""Stories: generated stories handed over by generation jobs, judged by the quality gates."""

from django.conf import settings
from django.db import IntegrityError, transaction
from rapidfuzz import fuzz, process

from ..judging import GatePolicy, judge
from ..models import Adjudication, Story, Topic


def story_add_generated(
    *, topic_id: int, theme_id: int, sample_index: int, text: str, provenance: dict
) -> Story | None:
    """Store one generated story, judged by the quality gates; None when a re-delivered task
    already stored this sample of this job. ``provenance``: Provenance fields.

    With the repair on, a story that ended on its own in more than two paragraphs is judged
    (and reviewed, and exported) re-paragraphed into two: an automatic edit beside the
    original. A story that fails a reject gate is stored rejected, with the decision recorded
    as the automatic checks'.
    """
    policy = GatePolicy.current()
    finish_reason = provenance.get("finish_reason", "")
    topic = Topic.objects.values_list("text", flat=True).get(pk=topic_id)
    verdict = judge(text, finish_reason, policy, topic=topic)
    near = near_duplicate_of(verdict.judged_text, theme_id)
    if near is not None:
        verdict = judge(text, finish_reason, policy, topic=topic, near_duplicate_of_id=near)
    story = Story(
        topic_id=topic_id,
        text=text,
        sample_index=sample_index,
        auto_edited_text=verdict.judged_text if verdict.repaired else "",
        original_paragraph_count=verdict.checks["paragraph_count"] if verdict.repaired else None,
        passed_as_written=verdict.passed,
        **provenance,
        **Story.check_fields(verdict.judged_checks),
        near_duplicate_of_id=near,
    )
    rejections = verdict.rejections
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


def near_duplicate_of(text: str, theme_id: int) -> int | None:
    """The story of this theme that ``text`` nearly repeats (rapidfuzz token-set ratio at or
    above STORYAPP_STORY_SIMILARITY), or None."""
    others = dict(Story.objects.filter(topic__theme_id=theme_id).values_list("pk", "text")[:5000])
    if not others:
        return None
    match = process.extractOne(
        text, others, scorer=fuzz.token_set_ratio, score_cutoff=settings.STORYAPP_STORY_SIMILARITY
    )
    return match[2] if match else None


def story_check_fields(*, text: str, finish_reason: str, theme_id: int) -> dict:
    """All check fields for a new story, including the near-duplicate search in its theme."""
    return {
        **judge(text, finish_reason).checks,
        "near_duplicate_of_id": near_duplicate_of(text, theme_id),
    }
