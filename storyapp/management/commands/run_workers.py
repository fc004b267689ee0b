import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MANAGE = Path(settings.BASE_DIR) / "manage.py"


class Command(BaseCommand):
    help = (
        "Run one worker process per group of STORYAPP_WORKER_LAYOUT (default: one per queue), "
        "so an export or a model test never waits behind a stories job or a fine-tune. "
        "Stops them all when one stops or on Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--layout",
            default=None,
            help="groups of queues, ';' between groups and ',' inside one "
            "(default: STORYAPP_WORKER_LAYOUT)",
        )

    def handle(self, *args, layout, **options):
        groups = layout_groups(layout if layout is not None else settings.STORYAPP_WORKER_LAYOUT)
        unknown = {q for group in groups for q in group} - set(settings.TASK_QUEUES)
        if unknown:
            raise CommandError(f"Unknown queue(s): {', '.join(sorted(unknown))}", returncode=2)
        children = [
            subprocess.Popen([sys.executable, str(MANAGE), "run_worker", "--queues", ",".join(g)])
            for g in groups
        ]
        self.stdout.write(f"{len(children)} workers: {' | '.join(','.join(g) for g in groups)}")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [child.returncode for child in children if child.returncode not in (0, -15)]
        if failed and not stopping:
            raise CommandError(f"a worker stopped with exit status {failed[0]}", returncode=1)


def layout_groups(layout: str) -> list[list[str]]:
    """``"default;teacher,student;train"`` -> ``[["default"], ["teacher", "student"], ["train"]]``;
    ``"*"`` alone (or an empty layout) is one worker per configured queue."""
    layout = layout.strip()
    if layout in ("", "*"):
        return [[queue] for queue in settings.TASK_QUEUES]
    groups = [[q.strip() for q in group.split(",") if q.strip()] for group in layout.split(";")]
    return [group for group in groups if group]
