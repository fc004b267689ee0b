"""Background tasks (Django Tasks API) and how they are enqueued.

A task takes ids, loads rows, and calls a service; it is safe to deliver twice. The services
that create work (``services.jobs``, ``services.registry``) enqueue through the helpers here, so
imports run one way: services -> tasks -> engine and claims.
"""

import math
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks import task, task_backends

from storyapp import claims as work
from storyapp.workers import activity

from .models import GenerationJob, JobItem
from .services import claims, engine


@task(queue_name="teacher")
def job_run(job_id: int) -> None:
    """Work on a job until it has nothing left to claim. Safe to deliver twice."""
    sweep()
    engine.job_work(job_id=job_id)


@task(queue_name="default")
def model_test_run(test_id: int) -> None:
    """Run one short generation for a ModelTest row and store the outcome on it."""
    with activity(f"model test {test_id}"):
        engine.model_test_run(test_id=test_id)


def ahead_of_jobs() -> dict:
    """Task options that put a task before waiting jobs, on backends that order by priority
    (the database backend does; RQ and our Celery adapter keep queue order)."""
    if task_backends["default"].supports_priority:
        return {"priority": 50}
    return {}


def job_enqueue(*, job, n_items: int) -> None:
    """Enqueue enough tasks for the job's pending items, after the transaction commits.

    Several tasks let several workers share one job; extra tasks find nothing and return.
    """
    GenerationJob.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    per_task = max(job.model.items_per_claim, 1)
    n_tasks = max(1, min(settings.STORYAPP_TASKS_PER_JOB, math.ceil(n_items / per_task)))
    runner = job_run.using(queue_name=job.queue_name)
    for _ in range(n_tasks):
        transaction.on_commit(partial(runner.enqueue, job_id=job.pk))


def requeue() -> list[int]:
    """Hand again the jobs whose tasks were all lost: pending items, none claimed, and an idle
    worker on the job's queue. After STORYAPP_MAX_ATTEMPTS hand-overs their pending items
    fail with the reason."""
    lost = (
        GenerationJob.objects.filter(
            status__in=(GenerationJob.Status.QUEUED, GenerationJob.Status.RUNNING),
            cancel_requested=False,
        )
        .filter(Exists(JobItem.objects.filter(job=OuterRef("pk"), status=JobItem.Status.PENDING)))
        .exclude(Exists(JobItem.objects.filter(job=OuterRef("pk"), status=JobItem.Status.CLAIMED)))
        .select_related("model")
    )

    def enqueue(job) -> None:
        pending = job.items.filter(status=JobItem.Status.PENDING).count()
        job_enqueue(job=job, n_items=pending)

    again, _ = work.requeue_lost(
        GenerationJob,
        lost=lost,
        queue_of=lambda job: job.queue_name,
        enqueue=enqueue,
        fail=claims_fail_pending,
    )
    return again


def claims_fail_pending(job_ids: list[int], reason: str) -> None:
    """Fail the pending items of jobs nobody takes, then settle each job's status."""
    JobItem.objects.filter(job_id__in=job_ids, status=JobItem.Status.PENDING).update(
        status=JobItem.Status.FAILED, error=reason, finished_at=timezone.now()
    )
    for job_id in job_ids:
        claims.job_refresh_status(job_id=job_id)


def sweep() -> list[int]:
    """Take back the items of dead workers and enqueue tasks for the jobs that got some; fail
    model tests nobody will finish."""
    claims.model_tests_sweep()
    wanted = claims.items_sweep()
    for job in GenerationJob.objects.filter(pk__in=list(wanted)).select_related("model"):
        job_enqueue(job=job, n_items=wanted[job.pk])
    return sorted(wanted)
