"""Dataset releases."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


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

    FINISHED = (Status.DONE, Status.FAILED)

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
    # What the release should not be trusted for (a split with too few records...).
    warnings = models.JSONField(default=list, blank=True)
    duplicates_skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The run that owns the export (curation.exports.runner): claimed with a conditional UPDATE,
    # kept alive by a heartbeat, taken back by the sweeper when its worker stops beating.
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
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
        indexes = [
            # The sweeper: running exports whose heartbeat is old.
            models.Index(fields=["status", "heartbeat_at"], name="export_status_heartbeat_idx"),
        ]
        permissions = [("download_export", "Can create and download dataset exports")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("curation:export_detail", args=[self.name])

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
