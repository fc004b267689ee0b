"""Each configured task backend really runs a task: db (always), RQ and Celery (with Redis)."""

import threading

import pytest
from django.test import override_settings

from tests.conftest import redis_up, require
from tests.storyapp.marker_tasks import write_marker

QUEUES = ["default", "teacher", "student"]


@pytest.mark.django_db(transaction=True)
def test_database_backend_runs_an_enqueued_task(tmp_path):
    from django_tasks_db.management.commands.db_worker import Worker

    marker = tmp_path / "db.txt"
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES}}
    ):
        write_marker.enqueue(path=str(marker), text="db")
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test",
            excluded_queue_names=[],
        ).run()
    assert marker.read_text() == "db"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_rq_backend_runs_an_enqueued_task(tmp_path):
    require(redis_up(), "Redis is not reachable on 127.0.0.1:6379")
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    marker = tmp_path / "rq.txt"
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": QUEUES}}
    ):
        django_rq.get_queue("default").empty()
        write_marker.enqueue(path=str(marker), text="rq")
        queue = django_rq.get_queue("default", job_class=Job)
        # Long generations must not be killed by RQ's 180 s default.
        assert queue._default_timeout >= 3600
        worker = django_rq.get_worker("default", job_class=Job, worker_class=SimpleWorker)
        worker.work(burst=True)
    assert marker.read_text() == "rq"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_celery_backend_runs_an_enqueued_task(tmp_path):
    require(redis_up(), "Redis is not reachable on 127.0.0.1:6379")
    from celery.contrib.testing.worker import start_worker

    from storyapp.celery import app

    marker = tmp_path / "celery.txt"
    done = threading.Event()
    with override_settings(
        TASKS={"default": {"BACKEND": "storyapp.celery_backend.CeleryBackend", "QUEUES": QUEUES}}
    ):
        app.control.purge()
        # Outside a transaction the message goes to the broker at once (on_commit runs now).
        write_marker.enqueue(path=str(marker), text="celery")
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"]):
            for _ in range(100):
                if marker.exists():
                    done.set()
                    break
                threading.Event().wait(0.1)
    assert done.is_set() and marker.read_text() == "celery"
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > 6 * 3600


@pytest.mark.django_db
def test_celery_backend_sends_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    from unittest import mock

    with override_settings(
        TASKS={"default": {"BACKEND": "storyapp.celery_backend.CeleryBackend", "QUEUES": QUEUES}}
    ):
        with mock.patch("storyapp.celery.run_task.apply_async") as send:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                result = write_marker.using(queue_name="teacher").enqueue(path="x", text="y")
            assert send.call_count == 0 and len(callbacks) == 1
            callbacks[0]()
    send.assert_called_once_with(
        args=("tests.storyapp.marker_tasks.write_marker", [], {"path": "x", "text": "y"}),
        queue="teacher",
        task_id=result.id,
        eta=None,
    )
