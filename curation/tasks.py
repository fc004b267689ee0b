"""Background tasks of the curation app (Django Tasks API): ids in, a service call inside."""

from django_tasks import task

from . import exports


@task(queue_name="default")
def export_run_task(export_id: int) -> None:
    """Write an export's files. A re-delivered task finds it done and returns."""
    exports.export_run(export_id=export_id)
