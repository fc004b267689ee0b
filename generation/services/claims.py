"""Claiming a job's items, keeping claims alive, and taking back the claims of dead workers.

Jobs never trust the queue for exactly-once delivery. A job owns items (unique key per job);
a task claims a batch with a conditional UPDATE, calls the model outside any transaction, and
writes outputs plus item status in one short transaction, only for items it still owns (see
``engine.items_complete``). Unique constraints on topics and stories make a duplicated task
harmless. A claim carries a heartbeat; the sweeper returns items whose worker stopped beating,
or fails them after ``STORYAPP_MAX_ATTEMPTS`` such losses.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from storyapp.heartbeat import heartbeat

from ..models import GenerationJob, JobItem, ModelTest

logger = logging.getLogger(__name__)


def items_claim(*, job_id: int, worker_id: str, limit: int) -> tuple[str, list[JobItem]]:
    """Claim up to ``limit`` pending items of a job that is not cancelled.

    Conditional UPDATE ... WHERE status = 'pending': two workers can never own one item. On
    PostgreSQL the candidates are picked with SKIP LOCKED so workers do not queue on each other.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        job = GenerationJob.objects.filter(pk=job_id).values("status", "cancel_requested").first()
        if job is None or job["cancel_requested"] or job["status"] in GenerationJob.FINISHED:
            return token, []
        candidates = JobItem.objects.filter(job_id=job_id, status=JobItem.Status.PENDING)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        JobItem.objects.filter(pk__in=ids, status=JobItem.Status.PENDING).update(
            status=JobItem.Status.CLAIMED,
            claim_token=token,
            claimed_by=worker_id[:200],
            claimed_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
        GenerationJob.objects.filter(pk=job_id, status=GenerationJob.Status.QUEUED).update(
            status=GenerationJob.Status.RUNNING, started_at=now
        )
    return token, list(JobItem.objects.filter(claim_token=token).order_by("pk"))


def claim_heartbeat(token: str):
    """Keep a claim alive while the model works (a thread touching heartbeat_at)."""
    claimed = JobItem.objects.filter(claim_token=token, status=JobItem.Status.CLAIMED)
    return heartbeat(lambda: claimed.update(heartbeat_at=timezone.now()))


def items_sweep(*, now=None) -> dict[int, int]:
    """Return items of dead workers to the queue (or fail them after too many attempts).

    Refreshes the status of every job it touched. Returns {job id: pending items} for the
    jobs that got items back and still want them worked on; the caller enqueues tasks for
    them (``generation.tasks.sweep``).
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.STORYAPP_CLAIM_STALE_SECONDS)
    stale = JobItem.objects.filter(status=JobItem.Status.CLAIMED, heartbeat_at__lt=stale_before)
    with transaction.atomic():
        rows = list(stale.select_for_update().values_list("pk", "job_id", "attempts"))
        if not rows:
            return {}
        give_up = [pk for pk, _, attempts in rows if attempts >= settings.STORYAPP_MAX_ATTEMPTS]
        retry = [pk for pk, _, attempts in rows if attempts < settings.STORYAPP_MAX_ATTEMPTS]
        JobItem.objects.filter(pk__in=retry, status=JobItem.Status.CLAIMED).update(
            status=JobItem.Status.PENDING, claim_token="", claimed_by="", heartbeat_at=None
        )
        JobItem.objects.filter(pk__in=give_up, status=JobItem.Status.CLAIMED).update(
            status=JobItem.Status.FAILED,
            claim_token="",
            finished_at=now,
            error=f"its worker stopped responding {settings.STORYAPP_MAX_ATTEMPTS} times",
        )
        job_ids = sorted({job_id for _, job_id, _ in rows})
        wanted = dict(
            JobItem.objects.filter(
                job_id__in=job_ids, status=JobItem.Status.PENDING, job__cancel_requested=False
            )
            .values_list("job_id")
            .annotate(n=Count("pk"))
            .values_list("job_id", "n")
        )
    for job_id in job_ids:
        job_refresh_status(job_id=job_id)
    logger.info("swept %d stale item(s) of job(s) %s", len(rows), job_ids)
    return wanted


def job_refresh_status(*, job_id: int) -> GenerationJob:
    """Set the final status once no item is pending or claimed (or the job was cancelled)."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        counts = dict(
            job.items.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        pending = counts.get(JobItem.Status.PENDING, 0)
        claimed = counts.get(JobItem.Status.CLAIMED, 0)
        done = counts.get(JobItem.Status.DONE, 0)
        failed = counts.get(JobItem.Status.FAILED, 0)
        if job.cancel_requested and not claimed:
            job.status = GenerationJob.Status.CANCELLED
        elif pending or claimed:
            return job
        elif failed == 0:
            job.status = GenerationJob.Status.SUCCEEDED
        elif done == 0:
            job.status = GenerationJob.Status.FAILED
        else:
            job.status = GenerationJob.Status.FINISHED_WITH_ERRORS
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
    return job


def model_tests_sweep(*, now=None) -> int:
    """Fail model tests nobody will finish: running with a silent worker, or queued longer
    than STORYAPP_MODEL_TEST_WAIT_MINUTES. Returns how many it failed."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.STORYAPP_CLAIM_STALE_SECONDS)
    waited = settings.STORYAPP_MODEL_TEST_WAIT_MINUTES
    dead = ModelTest.objects.filter(status=ModelTest.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    )
    n = dead.update(
        status=ModelTest.Status.FAILED,
        finished_at=now,
        error="its worker stopped responding during the test",
    )
    n += ModelTest.objects.filter(
        status=ModelTest.Status.QUEUED, created_at__lt=now - timedelta(minutes=waited)
    ).update(
        status=ModelTest.Status.FAILED,
        finished_at=now,
        error=f"no worker on its queue picked it up within {waited} minutes",
    )
    return n
