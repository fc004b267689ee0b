"""Stories: generated stories handed over by generation jobs, judged by the quality gates."""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from .. import near_duplicates
from ..gates import REJECT
from ..judging import GatePolicy, judge
from ..models import Adjudication, Story, StoryBand, Topic


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
    # Near-duplicates across the whole dataset (every theme), by MinHash LSH.
    near, keys = near_duplicates.find(verdict.judged_text)
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
            near_duplicates.index([(key, story.pk) for key in keys])
            if rejections:
                _record_automatic_rejection(story.pk, policy.reason(rejections))
    except IntegrityError:
        return None  # this sample of this job is stored already
    return story


def near_duplicates_backlog(*, batch: int = 2000) -> dict[str, int]:
    """Index every story not in the near-duplicate index yet (made by an import, a migration,
    a fixture), in id order, and flag each one that nearly repeats a story indexed before it,
    in any theme. Where the gate rejects near-duplicates, a pending story flagged here is
    rejected with the reason, as a new story would be. Safe to run again: it only takes
    stories without bands. Returns counts: indexed, flagged, rejected."""
    policy = GatePolicy.current()
    rejects = policy.actions.get("near_duplicate") == REJECT
    counts = {"indexed": 0, "flagged": 0, "rejected": 0}
    last = 0
    while True:
        rows = list(
            Story.objects.filter(pk__gt=last)
            .filter(~Exists(StoryBand.objects.filter(story=OuterRef("pk"))))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not rows:
            return counts
        last = rows[-1]
        texts = near_duplicates.judged_texts(rows)
        grams = {pk: near_duplicates.shingles(texts[pk]) for pk in rows}
        keys = {pk: near_duplicates.band_keys(g) if g else [] for pk, g in grams.items()}
        # Candidates already indexed, read once for the batch, then each story's own.
        indexed: dict[int, set[int]] = {}
        wanted = sorted({key for pk in rows for key in keys[pk]})
        for key, story_id in near_duplicates.stories_with_keys(wanted):
            indexed.setdefault(key, set()).add(story_id)
        known: dict[int, frozenset[int]] = {}
        flagged: dict[int, int] = {}
        for pk in rows:
            if not grams[pk]:
                continue
            candidates: set[int] = set()
            for key in keys[pk]:
                candidates |= indexed.get(key, set())
            candidates.discard(pk)
            candidates = set(sorted(candidates)[: near_duplicates.MAX_CANDIDATES])
            missing = candidates - known.keys() - grams.keys()
            if missing:
                for other, text in near_duplicates.judged_texts(missing).items():
                    known[other] = near_duplicates.shingles(text)
            match = near_duplicates.best_match(
                grams[pk], {c: grams.get(c) or known.get(c, frozenset()) for c in candidates}
            )
            if match is not None:
                flagged[pk] = match
            for key in keys[pk]:  # the next stories of the batch see this one
                indexed.setdefault(key, set()).add(pk)
        with transaction.atomic():
            near_duplicates.index([(key, pk) for pk in rows for key in keys[pk]])
            for pk, of in flagged.items():
                counts["rejected"] += _flag_near_duplicate(pk, of, policy, rejects)
        counts["indexed"] += len(rows)
        counts["flagged"] += len(flagged)


def _flag_near_duplicate(story_id: int, of: int, policy: GatePolicy, rejects: bool) -> int:
    """Link a story to the one it nearly repeats (an earlier link stays); where the gate
    rejects near-duplicates, reject it if still pending. 1 when it was rejected."""
    Story.objects.filter(pk=story_id, near_duplicate_of__isnull=True).update(
        near_duplicate_of_id=of
    )
    if not rejects:
        return 0
    changed = Story.objects.filter(pk=story_id, status=Story.Status.PENDING).update(
        status=Story.Status.REJECTED, auto_rejected=True, passed_as_written=False
    )
    if changed:
        _record_automatic_rejection(story_id, policy.reason(["near_duplicate"]))
    return changed


def _record_automatic_rejection(story_id: int, reason: str) -> None:
    """The gates' decision on a story, recorded as the automatic checks' (no admin)."""
    Adjudication.objects.create(
        story_id=story_id,
        admin=None,
        from_status=Story.Status.PENDING,
        to_status=Story.Status.REJECTED,
        reason=reason,
    )
