"""The review workflow: the queue and its reservations, reviews, and admins' decisions.

A story's status is recomputed in the same transaction as each review, with the story row
locked, so it is never stale."""

from collections.abc import Sequence
from datetime import timedelta
from statistics import fmean

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..agreement import JUDGE_VS_GATES
from ..approval import Policy
from ..dashboard import dashboard_invalidate
from ..models import Adjudication, Review, Story
from ..text import edit_of

COMMENT_MAX_LENGTH = 2000


def _reservable(user, now):
    """Stories this user may be given: awaiting reviews, not reviewed by them, not held."""
    mine = Review.objects.filter(story=OuterRef("pk"), reviewer=user)
    return (
        Story.objects.reviewable()
        .filter(status=Story.Status.PENDING, review_count__lt=settings.STORYAPP_REVIEW_OVERLAP)
        .filter(Q(reserved_by__isnull=True) | Q(reserved_until__lt=now) | Q(reserved_by=user))
        .exclude(Exists(mine))
    )


def story_next_for(*, user, skip: Sequence[int] = (), first: str = "") -> Story | None:
    """Reserve and return the next story for ``user``, or None when there is nothing left.

    A story the user already holds comes back first. Otherwise the pending story with the
    fewest reviews (oldest first) is reserved with a conditional UPDATE: if another reviewer
    takes it in between, the next candidate is tried. ``first="judge"``: the stories where
    the model judge and the gates disagree come before the others.
    """
    now = timezone.now()
    until = now + timedelta(minutes=settings.STORYAPP_RESERVATION_MINUTES)
    # What the user holds, found through the reservation's own index (a user holds a few).
    holding = Story.objects.filter(reserved_by=user, reserved_until__gte=now).exclude(pk__in=skip)
    held = (
        _reservable(user, now)
        .filter(pk__in=list(holding.values_list("pk", flat=True)[:50]))
        .order_by("pk")
        .first()
    )
    if held:
        return held
    for _ in range(5):
        waiting = _reservable(user, now).exclude(pk__in=skip).order_by("review_count", "pk")
        candidates = []
        if first == "judge":
            candidates = list(waiting.filter(JUDGE_VS_GATES).values_list("pk", flat=True)[:5])
        candidates = candidates or list(waiting.values_list("pk", flat=True)[:5])
        if not candidates:
            return None
        for pk in candidates:
            taken = (
                Story.objects.filter(pk=pk, status=Story.Status.PENDING)
                .filter(
                    Q(reserved_by__isnull=True) | Q(reserved_until__lt=now) | Q(reserved_by=user)
                )
                .update(reserved_by=user, reserved_until=until)
            )
            if taken:
                return Story.objects.select_related("topic__theme").get(pk=pk)
    return None


def story_release(*, story_id: int, user) -> None:
    Story.objects.filter(pk=story_id, reserved_by=user).update(
        reserved_by=None, reserved_until=None
    )


# --- reviews --------------------------------------------------------------------------------


def _validate_review(data: dict) -> None:
    errors = []
    for name in Review.SCORE_AXES:
        value = data.get(name)
        if value is None and name in Review.RUBRIC:
            continue  # a rubric axis the reviewer did not rate
        if not isinstance(value, int) or not 1 <= value <= 5:
            errors.append(
                ValidationError(
                    "%(name)s must be a score from 1 to 5.",
                    code="score_range",
                    params={"name": name},
                )
            )
    if data.get("decision") not in Review.Decision.values:
        errors.append(ValidationError("Choose approve or reject.", code="decision_invalid"))
    if data.get("reason") and data["reason"] not in Review.Reason.values:
        errors.append(ValidationError("Unknown reason code.", code="reason_invalid"))
    if len(data.get("comment", "")) > COMMENT_MAX_LENGTH:
        errors.append(
            ValidationError(
                "The comment is over %(n)s characters.",
                code="comment_too_long",
                params={"n": COMMENT_MAX_LENGTH},
            )
        )
    if errors:
        raise ValidationError(errors)


def story_status_recompute(story: Story) -> str:
    """Apply the policy to the story's stored reviews (caller holds the row lock)."""
    rows = list(story.reviews.values_list("decision", "overall"))
    story.review_count = len(rows)
    story.mean_overall = round(fmean(o for _, o in rows), 3) if rows else None
    story.status = Policy.current().status_for(rows)
    return story.status


def review_submit(*, story_id: int, reviewer, data: dict, started_at=None) -> Review:
    """Record a review and recompute the story's status in one transaction.

    Refuses a second review of the same story by the same reviewer, reviews of stories that
    already have enough reviews or have been decided, and reviews of a story another reviewer
    holds (their reservation has not expired): the holder's work is never thrown away.
    """
    _validate_review(data)
    comment = data.get("comment", "").strip()
    try:
        with transaction.atomic():
            story = Story.objects.select_for_update().get(pk=story_id)
            if story.reviews.filter(reviewer=reviewer).exists():
                raise ValidationError(
                    "You have already reviewed this story; each reviewer reviews a story once.",
                    code="already_reviewed",
                )
            if story.status != Story.Status.PENDING:
                raise ValidationError(
                    "This story is already %(status)s; it needs no more reviews.",
                    code="story_decided",
                    params={"status": story.get_status_display().lower()},
                )
            now = timezone.now()
            if (
                story.reserved_by_id not in (None, reviewer.pk)
                and story.reserved_until
                and story.reserved_until > now
            ):
                raise ValidationError(
                    "Another reviewer is reviewing this story (until %(until)s); take the next "
                    "one.",
                    code="story_reserved",
                    params={"until": timezone.localtime(story.reserved_until).strftime("%H:%M")},
                )
            review = Review.objects.create(
                story=story,
                reviewer=reviewer,
                **{name: data.get(name) for name in Review.SCORE_AXES},
                decision=data["decision"],
                reason=data.get("reason", "") or "",
                comment=comment,
                edited_text=edit_of(story.judged_text, data.get("edited_text", "")),
                seconds_spent=int((now - started_at).total_seconds()) if started_at else None,
                created_at=now,
            )
            story_status_recompute(story)
            if story.reserved_by_id == reviewer.pk:
                story.reserved_by, story.reserved_until = None, None
            story.save(
                update_fields=[
                    "review_count",
                    "mean_overall",
                    "status",
                    "reserved_by",
                    "reserved_until",
                ]
            )
            transaction.on_commit(dashboard_invalidate)
    except Story.DoesNotExist:
        raise ValidationError("No such story.", code="story_missing") from None
    except IntegrityError:
        # The unique constraint caught a double submit that raced past the check above.
        raise ValidationError(
            "You have already reviewed this story; each reviewer reviews a story once.",
            code="already_reviewed",
        ) from None
    return review


def _admin_decision(decision: str, reason: str) -> tuple[str, str]:
    """The target status and the cleaned reason of an admin's decision (both required)."""
    targets = {"approve": Story.Status.APPROVED, "reject": Story.Status.REJECTED}
    if decision not in targets:
        raise ValidationError("Choose approve or reject.", code="decision_invalid")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason for the decision.", code="reason_required")
    return targets[decision], reason[:COMMENT_MAX_LENGTH]


@transaction.atomic
def story_adjudicate(*, story_id: int, admin, decision: str, reason: str) -> Story:
    """An admin decides a story (from the adjudication queue, or as an override)."""
    target, reason = _admin_decision(decision, reason)
    story = Story.objects.select_for_update().get(pk=story_id)
    Adjudication.objects.create(
        story=story, admin=admin, from_status=story.status, to_status=target, reason=reason
    )
    story.status = target
    # An admin's decision replaces the gates' one: the story is no longer "auto-rejected".
    story.auto_rejected = False
    story.reserved_by, story.reserved_until = None, None
    story.save(update_fields=["status", "auto_rejected", "reserved_by", "reserved_until"])
    transaction.on_commit(dashboard_invalidate)
    return story


@transaction.atomic
def stories_adjudicate_bulk(*, story_ids: list[int], admin, decision: str, reason: str) -> int:
    """One admin decision over many stories (a rule over a filter, after a confirmation).
    Locks the rows in pk order; records one Adjudication per story that changes; returns how
    many changed."""
    target, reason = _admin_decision(decision, reason)
    stories = list(
        Story.objects.select_for_update()
        .filter(pk__in=story_ids)
        .exclude(status=target)
        .order_by("pk")
        .only("pk", "status")
    )
    Adjudication.objects.bulk_create(
        Adjudication(
            story=story,
            admin=admin,
            from_status=story.status,
            to_status=target,
            reason=reason,
        )
        for story in stories
    )
    Story.objects.filter(pk__in=[s.pk for s in stories]).update(
        status=target, auto_rejected=False, reserved_by=None, reserved_until=None
    )
    transaction.on_commit(dashboard_invalidate)
    return len(stories)


# A review can be amended while its story is still open: waiting for reviews, or for an admin.
AMENDABLE = (Story.Status.PENDING, Story.Status.ADJUDICATION)


@transaction.atomic
def review_amend(*, story_id: int, reviewer, data: dict) -> Review:
    """Change one's own review of a story nobody has decided yet; the story's status is
    recomputed from the reviews as they now stand."""
    _validate_review(data)
    story = Story.objects.select_for_update().filter(pk=story_id).first()
    review = story.reviews.filter(reviewer=reviewer).first() if story else None
    if story is None or review is None:
        raise ValidationError("You have no review of this story.", code="no_review")
    if story.status not in AMENDABLE or story.adjudications.filter(admin__isnull=False).exists():
        raise ValidationError(
            "This story is decided (%(status)s); its reviews no longer change.",
            code="story_decided",
            params={"status": story.get_status_display().lower()},
        )
    for name in Review.SCORE_AXES:
        setattr(review, name, data.get(name))
    review.decision = data["decision"]
    review.reason = data.get("reason", "") or ""
    review.comment = data.get("comment", "").strip()
    review.edited_text = edit_of(story.judged_text, data.get("edited_text", ""))
    review.amended_at = timezone.now()
    review.save()
    story_status_recompute(story)
    story.save(update_fields=["review_count", "mean_overall", "status"])
    transaction.on_commit(dashboard_invalidate)
    return review
