"""Background tasks of the training app (queue ``train``: the workers that hold a GPU) and how
they are enqueued."""

from functools import partial

from django.db import transaction
from django_tasks import task

from storyapp import claims

from .models import Evaluation, FineTuneJob
from .services import comparison
from .services.runs import evaluation_run, finetune_run

QUEUE = "train"


@task(queue_name=QUEUE)
def finetune_run_task(job_id: int) -> None:
    """Run a fine-tune. A duplicated delivery finds it claimed or finished and returns."""
    sweep()
    finetune_run(job_id=job_id)


@task(queue_name=QUEUE)
def evaluation_run_task(evaluation_id: int) -> None:
    sweep()
    evaluation_run(evaluation_id=evaluation_id)


def finetune_enqueue(*, job_id: int) -> None:
    transaction.on_commit(partial(finetune_run_task.enqueue, job_id=job_id))


def evaluation_enqueue(*, evaluation_id: int) -> None:
    transaction.on_commit(partial(evaluation_run_task.enqueue, evaluation_id=evaluation_id))


def sweep() -> None:
    """Take back the fine-tunes and evaluations of dead workers; free stale comparisons."""
    for job_id in claims.sweep(FineTuneJob)[0]:
        finetune_enqueue(job_id=job_id)
    for evaluation_id in claims.sweep(Evaluation)[0]:
        evaluation_enqueue(evaluation_id=evaluation_id)
    comparison.judgments_release_stale()
