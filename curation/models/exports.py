"""Dataset releases."""

from django.db import models
from django.db.models import Q
from django.urls import reverse

from storyapp.models import ClaimedWork
from storyapp.names import NAME_MAX, name_constraint, validate_name


class DatasetExport(ClaimedWork):
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

    FINISHED = (Status.DONE, Status.FAILED)

    name = models.CharField(max_length=NAME_MAX, unique=True, validators=[validate_name])
    # The name (and folder) it had before the name rule, when a migration renamed it.
    renamed_from = models.CharField(max_length=200, blank=True, editable=False)
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
    # What the release should not be trusted for (a split with too few records...).
    warnings = models.JSONField(default=list, blank=True)
    duplicates_skipped = models.PositiveIntegerField(default=0)
    # Owned by one run (curation.exports.runner) through storyapp.models.ClaimedWork's fields.

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            name_constraint("export"),
            models.CheckConstraint(
                condition=Q(val_fraction__gte=0) & Q(val_fraction__lt=1),
                name="export_val_fraction_range",
            ),
        ]
        indexes = [
            # The sweeper: running exports whose heartbeat is old.
            models.Index(fields=["status", "heartbeat_at"], name="export_status_heartbeat_idx"),
        ]
        permissions = [("download_export", "Can create and download dataset exports")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("curation:export_detail", args=[self.name])
