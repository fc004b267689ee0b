"""Reviews of stories, admins' adjudications, and the reviewing guidelines."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .texts import Story

# The score axes, 1 to 5 (Review.SCORE_AXES): forms, templates, the dashboard and exports all
# read them from the model.
AXIS_LABELS = {
    "overall": "Overall",
    "brief": "Follows the two-paragraph brief",
    "coherence": "Coherence",
    "creativity": "Creativity",
    "characters": "Characters and conclusion",
}


def _score_range(axis: str) -> Q:
    """1 to 5; a rubric axis may also be empty (not rated). Overall is always given."""
    in_range = Q(**{f"{axis}__gte": 1, f"{axis}__lte": 5})
    return in_range if axis == "overall" else in_range | Q(**{f"{axis}__isnull": True})


class Review(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    class Reason(models.TextChoices):
        OFF_TOPIC = "off_topic", "Off-topic"
        WRONG_FORMAT = "wrong_format", "Wrong format"
        UNSAFE = "unsafe", "Unsafe"
        INCOHERENT = "incoherent", "Incoherent"
        DUPLICATE = "duplicate", "Duplicate"
        OTHER = "other", "Other"

    AXIS_LABELS = AXIS_LABELS
    SCORE_AXES = tuple(AXIS_LABELS)
    RUBRIC = SCORE_AXES[1:]

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    overall = models.PositiveSmallIntegerField()
    # Rubric axes: empty when the reviewer did not rate that axis.
    brief = models.PositiveSmallIntegerField(null=True, blank=True)
    coherence = models.PositiveSmallIntegerField(null=True, blank=True)
    creativity = models.PositiveSmallIntegerField(null=True, blank=True)
    characters = models.PositiveSmallIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    comment = models.TextField(blank=True)
    # A reviewer's edit is kept beside the original, which is never overwritten.
    edited_text = models.TextField(blank=True)
    seconds_spent = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    amended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["story", "reviewer"], name="review_once_per_story"),
            *[
                models.CheckConstraint(condition=_score_range(axis), name=f"review_{axis}_1_to_5")
                for axis in AXIS_LABELS
            ],
        ]
        indexes = [
            # Dashboard: reviews per day and per reviewer.
            models.Index(fields=["created_at"], name="review_created_idx"),
            models.Index(fields=["reviewer", "created_at"], name="review_reviewer_idx"),
        ]

    def __str__(self):
        return f"review of {self.story_id} by {self.reviewer_id}"

    @property
    def rubric_scores(self) -> list[tuple[str, int | None]]:
        """(axis, score) for each rubric axis, in the model's order: what a review card shows."""
        return [(axis, getattr(self, axis)) for axis in self.RUBRIC]


class Adjudication(models.Model):
    """An admin's decision on a story the policy could not decide (or an override)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="adjudications")
    # Empty: the decision of the automatic checks (quality gates).
    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.story_id}: {self.from_status} -> {self.to_status}"


class Guidelines(models.Model):
    """The reviewing guidelines, one current text edited by admins."""

    text = models.TextField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "guidelines"

    def __str__(self):
        return f"guidelines of {self.updated_at:%Y-%m-%d}"


class JudgeSuggestion(models.Model):
    """A model judge's reading of one story against the brief, point by point (``answers``:
    criterion -> {"answer": true/false/null, "reason": "..."}): shown beside the story in the
    review panel as a suggestion, never a decision. Written by curation's service
    (``story_suggestion_add``) for whichever app ran the judge."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="suggestions")
    judge_name = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=64)
    answers = models.JSONField(default=dict)
    # Every criterion answered yes; None when the reply could not be read.
    passed = models.BooleanField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "judge_name", "prompt_version"], name="suggestion_once"
            )
        ]

    def __str__(self):
        return f"{self.judge_name} on story {self.story_id}"
