"""Background tasks of the curation app (Django Tasks API) and how they are enqueued."""

from functools import partial

from django.db import transaction
from django_tasks import task

from .exports.runner import export_run, exports_sweep


@task(queue_name="default")
def export_run_task(export_id: int) -> None:
    """Write an export's files. A duplicated delivery finds it claimed or done and returns."""
    sweep()
    export_run(export_id=export_id)


def export_enqueue(*, export_id: int) -> None:
    """Enqueue the export's task once the current transaction commits."""
    transaction.on_commit(partial(export_run_task.enqueue, export_id=export_id))


def sweep() -> list[int]:
    """Take back the exports of dead workers and enqueue a task for each one queued again."""
    queued = exports_sweep()
    for export_id in queued:
        export_enqueue(export_id=export_id)
    return queued
