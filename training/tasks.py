"""Background tasks of the training app (queue ``train``: the workers that hold a GPU) and how
they are enqueued."""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from storyapp import claims
from storyapp.workers import activity

from .models import Evaluation, FineTuneJob, JudgeRun
from .services import comparison
from .services.judge_work import judge_run
from .services.runs import evaluation_run, finetune_run

QUEUE = "train"


@task(queue_name=QUEUE)
def finetune_run_task(job_id: int) -> None:
    """Run a fine-tune. A duplicated delivery finds it claimed or finished and returns."""
    sweep()
    with activity(f"fine-tune {job_id}"):
        finetune_run(job_id=job_id)


@task(queue_name=QUEUE)
def evaluation_run_task(evaluation_id: int) -> None:
    sweep()
    with activity(f"evaluation {evaluation_id}"):
        evaluation_run(evaluation_id=evaluation_id)


@task(queue_name=QUEUE)
def judge_run_task(run_id: int) -> None:
    """Run a judge run (enqueued on its judge's queue)."""
    sweep()
    with activity(f"judge run {run_id}"):
        judge_run(run_id=run_id)


def judge_run_enqueue(*, run: JudgeRun) -> None:
    JudgeRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now())
    runner = judge_run_task.using(queue_name=run.judge.queue)
    transaction.on_commit(partial(runner.enqueue, run_id=run.pk))


def finetune_enqueue(*, job_id: int) -> None:
    FineTuneJob.objects.filter(pk=job_id).update(enqueued_at=timezone.now())
    transaction.on_commit(partial(finetune_run_task.enqueue, job_id=job_id))


def evaluation_enqueue(*, evaluation_id: int) -> None:
    Evaluation.objects.filter(pk=evaluation_id).update(enqueued_at=timezone.now())
    transaction.on_commit(partial(evaluation_run_task.enqueue, evaluation_id=evaluation_id))


def requeue() -> None:
    """Hand again the fine-tunes and evaluations whose task was lost before a worker took it."""
    for model, run in ((FineTuneJob, finetune_run_task), (Evaluation, evaluation_run_task)):
        field = "job_id" if model is FineTuneJob else "evaluation_id"
        claims.requeue_lost(
            model,
            lost=model.objects.filter(status=model.Status.QUEUED, cancel_requested=False),
            queue_of=lambda row: QUEUE,
            enqueue=lambda row, run=run, field=field: transaction.on_commit(
                partial(run.enqueue, **{field: row.pk})
            ),
        )
    claims.requeue_lost(
        JudgeRun,
        lost=JudgeRun.objects.filter(status=JudgeRun.Status.QUEUED, cancel_requested=False),
        queue_of=lambda row: row.judge.queue,
        enqueue=lambda row: judge_run_enqueue(run=row),
    )


def sweep() -> None:
    """Take back the fine-tunes and evaluations of dead workers; free stale comparisons."""
    for job_id in claims.sweep(FineTuneJob)[0]:
        finetune_enqueue(job_id=job_id)
    for evaluation_id in claims.sweep(Evaluation)[0]:
        evaluation_enqueue(evaluation_id=evaluation_id)
    for run in JudgeRun.objects.filter(pk__in=claims.sweep(JudgeRun)[0]).select_related("judge"):
        judge_run_enqueue(run=run)
    comparison.judgments_release_stale()
