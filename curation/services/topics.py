"""Topics: generated topics handed over by generation jobs, similarity flags, and triage."""

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rapidfuzz import fuzz, process

from ..dashboard import dashboard_invalidate
from ..models import Topic
from ..text import text_key


@transaction.atomic
def topics_add_generated(*, theme_id: int, texts: Sequence[str], provenance: dict) -> int:
    """Store a model's topics for a theme; returns how many were new.

    Case-insensitive duplicates of the theme's topics (or of each other) are skipped; each new
    topic is pre-flagged with the most similar earlier topic, earlier topics of the same reply
    included. ``provenance``: Provenance fields.
    """
    existing = set(Topic.objects.filter(theme_id=theme_id).values_list("text_key", flat=True))
    fresh = []
    for text in texts:
        key = text_key(text)
        if key in existing:
            continue
        existing.add(key)
        topic = Topic(theme_id=theme_id, text=text, text_key=key, **provenance)
        try:
            with transaction.atomic():
                topic.save()
        except IntegrityError:
            continue  # a concurrent writer of the same theme stored it first
        fresh.append(topic)
    topics_flag_similar(fresh)
    Topic.objects.bulk_update(
        [t for t in fresh if t.similar_to_id], ["similar_to", "similarity"], batch_size=500
    )
    return len(fresh)


DECISIONS = {
    "approve": Topic.Status.APPROVED,
    "reject": Topic.Status.REJECTED,
    "duplicate": Topic.Status.REJECTED,
    "reset": Topic.Status.PENDING,
}


@transaction.atomic
def topic_decide(*, topic_id: int, decision: str, actor, duplicate_of: int | None = None) -> Topic:
    targets = DECISIONS
    if decision not in targets:
        raise ValidationError("Unknown decision.", code="decision_invalid")
    topic = Topic.objects.select_for_update().get(pk=topic_id)
    topic.duplicate_of = None
    if decision == "duplicate":
        original = duplicate_of or topic.similar_to_id
        if not original or original == topic.pk or not Topic.objects.filter(pk=original).exists():
            raise ValidationError(
                "Name the topic this one duplicates.", code="duplicate_of_missing"
            )
        topic.duplicate_of_id = original
    topic.status = targets[decision]
    topic.decided_by = actor
    topic.decided_at = timezone.now()
    topic.save(update_fields=["status", "duplicate_of", "decided_by", "decided_at"])
    transaction.on_commit(dashboard_invalidate)
    return topic


@transaction.atomic
def topics_decide_bulk(*, topic_ids: list[int], decision: str, actor) -> int:
    """Approve, reject or reset many topics at once (a rule over a filter, after a
    confirmation); returns how many changed."""
    if decision not in ("approve", "reject", "reset"):
        raise ValidationError("Choose approve, reject or reset.", code="decision_invalid")
    target = DECISIONS[decision]
    changed = (
        Topic.objects.filter(pk__in=topic_ids)
        .exclude(status=target)
        .update(status=target, duplicate_of=None, decided_by=actor, decided_at=timezone.now())
    )
    transaction.on_commit(dashboard_invalidate)
    return changed


def topics_flag_similar(topics: list[Topic]) -> None:
    """Pre-flag each topic with the most similar earlier topic (any theme), if close enough.
    Saved topics are compared with each other too, in order (a later one points back)."""
    threshold = settings.STORYAPP_TOPIC_SIMILARITY
    existing = dict(
        Topic.objects.exclude(pk__in=[t.pk for t in topics if t.pk]).values_list("pk", "text")
    )
    for topic in topics:
        if existing:
            match = process.extractOne(
                topic.text, existing, scorer=fuzz.token_set_ratio, score_cutoff=threshold
            )
            if match:
                _, score, pk = match
                topic.similar_to_id, topic.similarity = pk, round(score, 1)
        if topic.pk:
            existing[topic.pk] = topic.text
