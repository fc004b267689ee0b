"""The Celery application, for shops that run Celery workers (``STORYAPP_TASKS_BACKEND=celery``).

Worker: ``celery -A storyapp worker -Q teacher,student,default``. Celery only transports the
call; the task itself is a Django Tasks task (see storyapp.celery_backend).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyapp.settings")

app = Celery("storyapp")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(name="storyapp.run_task", acks_late=True, reject_on_worker_lost=True)
def run_task(module_path: str, args: list, kwargs: dict):
    """Run the Django Tasks task at ``module_path``; results live in our own tables."""
    from django.utils.module_loading import import_string

    task = import_string(module_path)
    task.call(*args, **kwargs)
