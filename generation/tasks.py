"""Background tasks (Django Tasks API) and how they are enqueued.

A task takes ids, loads rows, and calls a service; it is safe to deliver twice. The services
that create work (``services.jobs``, ``services.registry``) enqueue through the helpers here, so
imports run one way: services -> tasks -> engine and claims.
"""

import math
from functools import partial

from django.conf import settings
from django.db import transaction
from django_tasks import task, task_backends

from .models import GenerationJob
from .services import claims, engine


@task(queue_name="teacher")
def job_run(job_id: int) -> None:
    """Work on a job until it has nothing left to claim. Safe to deliver twice."""
    sweep()
    engine.job_work(job_id=job_id)


@task(queue_name="default")
def model_test_run(test_id: int) -> None:
    """Run one short generation for a ModelTest row and store the outcome on it."""
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
    per_task = max(job.model.items_per_claim, 1)
    n_tasks = max(1, min(settings.STORYAPP_TASKS_PER_JOB, math.ceil(n_items / per_task)))
    runner = job_run.using(queue_name=job.queue_name)
    for _ in range(n_tasks):
        transaction.on_commit(partial(runner.enqueue, job_id=job.pk))


def sweep() -> list[int]:
    """Take back the items of dead workers and enqueue tasks for the jobs that got some; fail
    model tests nobody will finish."""
    claims.model_tests_sweep()
    wanted = claims.items_sweep()
    for job in GenerationJob.objects.filter(pk__in=list(wanted)).select_related("model"):
        job_enqueue(job=job, n_items=wanted[job.pk])
    return sorted(wanted)
