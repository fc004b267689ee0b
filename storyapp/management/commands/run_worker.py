import logging
import threading
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from storyapp.workers import sweep_all, worker_beat, worker_identity

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run a task worker for the configured backend (db, rq or celery) with a heartbeat: "
        "pages know which queues are served, and the work of dead workers is swept back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queues", default="*", help="comma-separated queues, or * for all (default)"
        )

    def handle(self, *args, queues, **options):
        names = settings.TASK_QUEUES if queues == "*" else queues.split(",")
        unknown = set(names) - set(settings.TASK_QUEUES)
        if unknown:
            raise CommandError(f"Unknown queue(s): {', '.join(sorted(unknown))}", returncode=2)
        backend = settings.TASKS_BACKEND
        worker_id = f"{worker_identity()}:{uuid.uuid4().hex[:6]}"
        stop = threading.Event()
        beat = threading.Thread(
            target=self._beat, args=(stop, worker_id, backend, names), daemon=True
        )
        beat.start()
        self.stdout.write(f"worker {worker_id}: backend {backend}, queues {','.join(names)}")
        try:
            self._run(backend, names, worker_id)
        finally:
            stop.set()

    def _beat(self, stop, worker_id, backend, queues):
        """Heartbeat and sweeper, until the worker stops."""
        try:
            while True:
                try:
                    worker_beat(worker_id=worker_id, backend=backend, queues=queues)
                    sweep_all()
                except Exception:
                    logger.exception("worker heartbeat failed")
                if stop.wait(settings.STORYAPP_HEARTBEAT_SECONDS):
                    return
        finally:
            connection.close()

    def _run(self, backend, queues, worker_id):
        if backend == "db":
            from django_tasks_db.management.commands.db_worker import Worker

            Worker(
                queue_names=queues,
                interval=1,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=worker_id[:64],
                excluded_queue_names=[],
            ).run()
        elif backend == "rq":
            import django_rq
            from django_tasks_rq import Job

            # settings.RQ's worker class: no forked work-horse (see the settings).
            django_rq.get_worker(*queues, job_class=Job).work()
        else:
            from storyapp.celery import app

            app.worker_main(
                [
                    "worker",
                    "-Q",
                    ",".join(queues),
                    "--pool",
                    "solo",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                    "-n",
                    f"{worker_id}@%h",
                ]
            )
