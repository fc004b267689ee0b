from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

THEME_NAME_MAX_LENGTH = 120


def theme_name_key(name: str) -> str:
    """The comparison key for theme names: trimmed, inner whitespace collapsed, casefolded."""
    return " ".join(name.split()).casefold()


class ThemeQuerySet(models.QuerySet):
    # Buckets partition the catalog: a restricted theme waits in "restricted" (held for an
    # editor), not in "pending", until someone decides it.
    BUCKETS = ("pending", "restricted", "approved", "rejected")

    def restricted(self):
        return self.exclude(restricted_reason="")

    def in_bucket(self, bucket: str):
        if bucket == "pending":
            return self.filter(status=Theme.Status.PENDING, restricted_reason="")
        if bucket == "restricted":
            return self.filter(status=Theme.Status.PENDING).restricted()
        if bucket in (Theme.Status.APPROVED, Theme.Status.REJECTED):
            return self.filter(status=bucket)
        if bucket in ("", "all"):
            return self
        raise ValueError(f"unknown theme bucket {bucket!r}")

    def search(self, text: str):
        key = theme_name_key(text)
        return self.filter(name_key__contains=key) if key else self

    def bucket_counts(self) -> dict[str, int]:
        """Counts for every bucket and the total, in one query."""
        pending = Q(status=Theme.Status.PENDING)
        return self.aggregate(
            all=Count("pk"),
            pending=Count("pk", filter=pending & Q(restricted_reason="")),
            restricted=Count("pk", filter=pending & ~Q(restricted_reason="")),
            approved=Count("pk", filter=Q(status=Theme.Status.APPROVED)),
            rejected=Count("pk", filter=Q(status=Theme.Status.REJECTED)),
        )


class Theme(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        CATALOG = "catalog", "Built-in catalog"
        IMPORT = "import", "Imported file"

    name = models.CharField(max_length=THEME_NAME_MAX_LENGTH)
    # Case-insensitive identity of the name. Stored (not a functional index on LOWER(name))
    # because SQLite's LOWER only folds ASCII; Python's casefold is the same on every database.
    name_key = models.CharField(max_length=4 * THEME_NAME_MAX_LENGTH, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Non-empty when the keyword policy (curation.policy) held the theme for an editor.
    restricted_reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CATALOG)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["name_key", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["name_key"], name="theme_name_key_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="theme_status_valid",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="theme_name_not_empty"),
        ]
        indexes = [
            # Theme list filtered by a status bucket, ordered by name.
            models.Index(fields=["status", "name_key"], name="theme_status_name_idx"),
        ]
        permissions = [
            ("decide_theme", "Can approve, reject or reset themes"),
            ("import_theme", "Can import themes from a file"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("curation:theme_detail", args=[self.pk])

    @property
    def is_restricted(self) -> bool:
        return bool(self.restricted_reason)


class ThemeEvent(models.Model):
    """Audit log of a theme: creation and every decision, with before and after."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        DECIDED = "decided", "Decided"

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    override_restriction = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The audit log on the theme page, newest first.
            models.Index(fields=["theme", "-created_at"], name="themeevent_theme_created_idx"),
        ]

    def __str__(self):
        return f"{self.theme_id}: {self.from_status or '-'} -> {self.to_status}"


def text_key(text: str) -> str:
    """Comparison key for generated texts: inner whitespace collapsed, casefolded."""
    return " ".join(text.split()).casefold()


class Provenance(models.Model):
    """How a generated text was made. Plain values, not foreign keys: curation does not depend
    on generation, and a record of provenance must not change when a profile is edited."""

    generation_job_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    model_name = models.CharField(max_length=200, blank=True)
    model_snapshot = models.JSONField(default=dict, blank=True)
    template_version = models.CharField(max_length=64, blank=True)
    prompt = models.TextField(blank=True)
    # The chat messages (system, user) that were sent, before any chat template.
    prompt_messages = models.JSONField(default=list, blank=True)
    sampling = models.JSONField(default=dict, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class Topic(Provenance):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="topics")
    text = models.CharField(max_length=500)
    text_key = models.CharField(max_length=2000, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Pre-flag: the most similar earlier topic (any theme) above the similarity threshold.
    similar_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    similarity = models.FloatField(null=True, blank=True)
    # Set when a reviewer rejects it as a duplicate of another topic.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["theme_id", "pk"]
        constraints = [
            # Exact and case-insensitive duplicates within a theme are stored once.
            models.UniqueConstraint(fields=["theme", "text_key"], name="topic_theme_text_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="topic_status_valid",
            ),
        ]
        indexes = [
            # Topic lists per job (job console) and eligibility filters by status.
            models.Index(fields=["status", "theme"], name="topic_status_theme_idx"),
        ]
        permissions = [("triage_topic", "Can approve or reject topics")]

    def __str__(self):
        return self.text


class StoryQuerySet(models.QuerySet):
    def exportable(self):
        """Approved stories whose topic is not rejected and whose theme is approved."""
        return self.filter(
            status=Story.Status.APPROVED, topic__theme__status=Theme.Status.APPROVED
        ).exclude(topic__status=Topic.Status.REJECTED)


class Story(Provenance):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ADJUDICATION = "adjudication", "Needs adjudication"

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="stories")
    text = models.TextField()
    sample_index = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Kept in step with the reviews, in the same transaction as each review.
    review_count = models.PositiveIntegerField(default=0)
    mean_overall = models.FloatField(null=True, blank=True)
    # One reviewer at a time may hold a story, until reserved_until.
    reserved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reserved_until = models.DateTimeField(null=True, blank=True)
    # Automatic checks (curation.checks), computed when the story is stored.
    paragraph_count = models.PositiveSmallIntegerField(default=0)
    word_count = models.PositiveIntegerField(default=0)
    cut_off = models.BooleanField(default=False)
    repeated_ngram_ratio = models.FloatField(default=0.0)
    not_english = models.BooleanField(default=False)
    near_duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = StoryQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # A re-delivered task cannot write the same sample of a job twice.
            models.UniqueConstraint(
                fields=["generation_job_id", "topic", "sample_index"],
                name="story_job_topic_sample_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected", "adjudication"]),
                name="story_status_valid",
            ),
        ]
        indexes = [
            # Story lists by status, newest first.
            models.Index(fields=["status", "-created_at"], name="story_status_created_idx"),
            # The review queue: pending stories with the fewest reviews first.
            models.Index(fields=["status", "review_count", "id"], name="story_queue_idx"),
            # The story browser's default order (newest first), also for deep pages.
            models.Index(fields=["created_at", "id"], name="story_created_idx"),
        ]
        permissions = [
            ("rate_story", "Can review and rate stories"),
            ("adjudicate_story", "Can decide stories that need adjudication"),
        ]

    def __str__(self):
        return self.text[:60]

    def get_absolute_url(self):
        return reverse("curation:story_detail", args=[self.pk])

    @property
    def paragraphs(self) -> list[str]:
        from .checks import split_paragraphs

        return split_paragraphs(self.text)


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

    RUBRIC = ("brief", "coherence", "creativity", "characters")
    RUBRIC_LABELS = {
        "brief": "Follows the two-paragraph brief",
        "coherence": "Coherence",
        "creativity": "Creativity",
        "characters": "Characters and conclusion",
    }

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    overall = models.PositiveSmallIntegerField()
    brief = models.PositiveSmallIntegerField()
    coherence = models.PositiveSmallIntegerField()
    creativity = models.PositiveSmallIntegerField()
    characters = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    comment = models.TextField(blank=True)
    # A reviewer's edit is kept beside the original, which is never overwritten.
    edited_text = models.TextField(blank=True)
    seconds_spent = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["story", "reviewer"], name="review_once_per_story"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{axis}__gte": 1, f"{axis}__lte": 5}),
                    name=f"review_{axis}_1_to_5",
                )
                for axis in ("overall", "brief", "coherence", "creativity", "characters")
            ],
        ]
        indexes = [
            # Dashboard: reviews per day and per reviewer.
            models.Index(fields=["created_at"], name="review_created_idx"),
            models.Index(fields=["reviewer", "created_at"], name="review_reviewer_idx"),
        ]

    def __str__(self):
        return f"review of {self.story_id} by {self.reviewer_id}"


class Adjudication(models.Model):
    """An admin's decision on a story the policy could not decide (or an override)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="adjudications")
    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
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


class DatasetExport(models.Model):
    """An immutable dataset release: a folder of files under var/exports/<name>/."""

    class Format(models.TextChoices):
        CHAT = "chat", "Chat messages"
        PROMPT_COMPLETION = "prompt-completion", "Prompt / completion"
        TEXT = "text", "Plain text"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    name = models.SlugField(max_length=100, unique=True)
    format = models.CharField(max_length=32, choices=Format.choices, default=Format.CHAT)
    min_score = models.FloatField(null=True, blank=True)
    models_filter = models.JSONField(default=list, blank=True)
    themes_filter = models.JSONField(default=list, blank=True)
    use_edits = models.BooleanField(default=False)
    val_fraction = models.FloatField(default=0.1)
    seed = models.BigIntegerField(default=42)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    train_count = models.PositiveIntegerField(default=0)
    validation_count = models.PositiveIntegerField(default=0)
    story_ids = models.JSONField(default=list, blank=True)
    files = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(val_fraction__gte=0) & Q(val_fraction__lt=1),
                name="export_val_fraction_range",
            )
        ]
        permissions = [("download_export", "Can create and download dataset exports")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("curation:export_detail", args=[self.name])
