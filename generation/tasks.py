"""Background tasks (Django Tasks API). Each takes ids, loads rows, and calls a service."""

from django_tasks import task

from . import services


@task(queue_name="teacher")
def job_run(job_id: int) -> None:
    """Work on a job until it has nothing left to claim. Safe to deliver twice."""
    services.job_work(job_id=job_id)


@task(queue_name="default")
def model_test_run(test_id: int) -> None:
    """Run one short generation for a ModelTest row and store the outcome on it."""
    services.model_test_run(test_id=test_id)
