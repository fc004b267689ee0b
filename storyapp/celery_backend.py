"""A small Django Tasks backend that sends tasks through Celery.

django-tasks-celery needs Python 3.12, so this is ours. It only transports calls: it does not
store results (``supports_get_result = False``); our jobs keep their own state in the database.
Like the RQ backend, a task enqueued inside a transaction is sent when the transaction commits.
"""

from django.db import transaction
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id


class CeleryBackend(BaseTaskBackend):
    supports_defer = True

    def enqueue(self, task: Task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        result: TaskResult = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

        def send():
            from .celery import run_task

            run_task.apply_async(
                args=(task.module_path, result.args, result.kwargs),
                queue=task.queue_name,
                task_id=result.id,
                eta=task.run_after,
            )
            task_enqueued.send(type(self), task_result=result)

        transaction.on_commit(send)
        return result
