"""Background tasks of the curation app (Django Tasks API) and how they are enqueued."""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from storyapp import claims
from storyapp.workers import activity

from .exports.runner import export_run, exports_sweep
from .models import DatasetExport

QUEUE = "default"


@task(queue_name=QUEUE)
def export_run_task(export_id: int) -> None:
    """Write an export's files. A duplicated delivery finds it claimed or done and returns."""
    sweep()
    with activity(f"export {export_id}"):
        export_run(export_id=export_id)


def export_enqueue(*, export_id: int) -> None:
    """Enqueue the export's task once the current transaction commits."""
    DatasetExport.objects.filter(pk=export_id).update(enqueued_at=timezone.now())
    transaction.on_commit(partial(export_run_task.enqueue, export_id=export_id))


def requeue() -> list[int]:
    """Hand again the exports whose task was lost before a worker took it."""
    again, _ = claims.requeue_lost(
        DatasetExport,
        lost=DatasetExport.objects.filter(status=DatasetExport.Status.QUEUED),
        queue_of=lambda export: QUEUE,
        enqueue=lambda export: transaction.on_commit(
            partial(export_run_task.enqueue, export_id=export.pk)
        ),
        hint="; retry it from its page once a worker serves the queue",
    )
    return again


def sweep() -> list[int]:
    """Take back the exports of dead workers and enqueue a task for each one queued again."""
    queued = exports_sweep()
    for export_id in queued:
        export_enqueue(export_id=export_id)
    return queued
