from django.db import models

from storyapp.models import ClaimedWork


class ToyWork(ClaimedWork):
    """Sleeps for ``seconds``, then records what it did: the whole kind of work is this model
    and its work function (tasks.py)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (Status.DONE, Status.FAILED)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    seconds = models.FloatField(default=1.0)
    steps = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="toywork_sweep_idx")]
