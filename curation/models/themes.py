"""The theme catalog and its audit log."""

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from ..text import text_key

THEME_NAME_MAX_LENGTH = 120


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
        key = text_key(text)
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
    # Case-insensitive identity of the name (curation.text.text_key).
    name_key = models.CharField(max_length=4 * THEME_NAME_MAX_LENGTH, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Non-empty when the keyword policy (curation.restrictions) held the theme for an editor.
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

    @property
    def status_label(self) -> tuple[str, str]:
        """(css class, text) of the status badge: a restricted theme nobody decided yet is
        held by the content policy, not merely pending."""
        if self.is_restricted and self.status == self.Status.PENDING:
            return "restricted", "Held by policy"
        return self.status, self.get_status_display()


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
