"""Background tasks of the curation app (Django Tasks API): ids in, a service call inside."""

from django_tasks import task

from .exports.runner import export_run


@task(queue_name="default")
def export_run_task(export_id: int) -> None:
    """Write an export's files. A re-delivered task finds it done and returns."""
    export_run(export_id=export_id)
