"""Worker presence: each worker process writes a heartbeat naming the queues it serves."""

import os
import socket
import threading

from django.utils import timezone

from ..models import WorkerHeartbeat


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def worker_beat(*, worker_id: str, backend: str, queues: list[str]) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "backend": backend,
            "queues": queues,
            "last_seen": timezone.now(),
        },
    )
