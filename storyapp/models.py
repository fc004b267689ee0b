"""Rows shared by every app: worker heartbeats, and the base of claimed, heartbeating work."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """A task worker's presence: which queues it serves, last seen when (``run_worker``)."""

    worker_id = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=16)
    queues = models.JSONField(default=list)
    # What it works on now ("job 12"), empty when idle.
    activity = models.CharField(max_length=200, blank=True)
    # Since when it works on nothing (null while busy): only a worker idle for a while shows
    # that a task waiting for it was lost (storyapp.claims.requeue_lost).
    idle_since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self):
        return self.worker_id


class TrackedWork(models.Model):
    """Background work people start and watch: who started it, when, how it ended. Subclasses
    define ``Status`` and ``FINISHED`` (the statuses that end it)."""

    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its task was last handed to the queue, and how often the sweeper had to hand it
    # again because no worker took it (storyapp.claims.requeue_lost).
    enqueued_at = models.DateTimeField(default=timezone.now)
    requeues = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    # Set by each concrete kind of work.
    status: str
    FINISHED: tuple[str, ...]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ClaimedWork(TrackedWork):
    """Tracked work owned by one run at a time (``storyapp.claims``): claimed with a
    conditional UPDATE (``claim_token``, ``claimed_by``), kept alive by a heartbeat, taken back
    by the sweeper when its worker stops beating, failed after STORYAPP_MAX_ATTEMPTS. The
    subclass defines ``status`` with its ``Status`` choices, and an index on (status,
    heartbeat_at) for the sweeper."""

    claim_token = models.CharField(max_length=64, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
