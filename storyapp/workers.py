"""Task workers, across apps: who serves which queue, and the sweepers every worker runs.

Each app registers its sweeper (``register_sweeper`` in its AppConfig.ready): a function that
takes back the work of dead workers and enqueues tasks for it. ``run_worker`` calls them all
with its heartbeat, so no app needs to know the others.
"""

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

_SWEEPERS: list[Callable[[], object]] = []
# What this process works on now ("job 12"), written with its heartbeat: a page can say
# "busy with job 12" rather than "waiting for a worker".
_ACTIVITY: dict = {"now": "", "idle_since": timezone.now()}


def register_sweeper(sweep: Callable[[], object]) -> None:
    if sweep not in _SWEEPERS:
        _SWEEPERS.append(sweep)


def sweep_all() -> None:
    """Run every app's sweeper; one failing does not stop the others."""
    for sweep in list(_SWEEPERS):
        try:
            sweep()
        except Exception:
            logger.exception("sweeper %s failed", getattr(sweep, "__qualname__", sweep))


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@contextlib.contextmanager
def activity(text: str):
    """Say what this process is busy with while the block runs."""
    previous, _ACTIVITY["now"] = _ACTIVITY["now"], text[:200]
    try:
        yield
    finally:
        _ACTIVITY["now"] = previous
        if not previous:
            _ACTIVITY["idle_since"] = timezone.now()


def worker_beat(*, worker_id: str, backend: str, queues: list[str]) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "backend": backend,
            "queues": queues,
            "activity": _ACTIVITY["now"],
            "idle_since": None if _ACTIVITY["now"] else _ACTIVITY["idle_since"],
            "last_seen": timezone.now(),
        },
    )


def queue_behind(queue: str, *, now=None, live: list | None = None) -> list[str]:
    """What a task queued on ``queue`` waits behind: the work of every live worker serving it
    when all of them are busy ("job 12"); empty when one is free or none serves it."""
    live = list(_live(now).values_list("activity", "queues")) if live is None else live
    serving = [activity for activity, queues in live if "*" in queues or queue in queues]
    return serving if serving and all(serving) else []


def waits_for(rows, queue_of: Callable[[Any], str], *, now=None) -> None:
    """Set ``row.waits_for`` on each queued row of a list page ("behind job 12 on queue
    teacher", "no worker serves queue train", or ""), with one query for the whole page."""
    queued = [row for row in rows if getattr(row, "status", "") == "queued"]
    if not queued:
        return
    live = list(_live(now).values_list("activity", "queues"))
    for row in queued:
        queue = queue_of(row)
        behind = queue_behind(queue, live=live)
        if behind:
            row.waits_for = f"behind {', '.join(behind)} on queue {queue}"
        elif not any("*" in queues or queue in queues for _, queues in live):
            row.waits_for = f"no worker serves queue {queue}"
        else:
            row.waits_for = ""


def _live(now=None):
    now = now or timezone.now()
    alive_after = now - timedelta(seconds=max(3 * settings.STORYAPP_HEARTBEAT_SECONDS, 30))
    return WorkerHeartbeat.objects.filter(last_seen__gte=alive_after)


def idle_queues(*, now=None) -> set[str]:
    """Queues some live worker serves while it has worked on nothing for two heartbeats or
    more ("*": every queue): a task waiting on such a queue would have been taken."""
    now = now or timezone.now()
    quiet = now - timedelta(seconds=2 * settings.STORYAPP_HEARTBEAT_SECONDS)
    idle: set[str] = set()
    workers = _live(now).filter(activity="", idle_since__lte=quiet)
    for queues in workers.values_list("queues", flat=True):
        idle.update(queues)
    return idle


def queues_served(*, now=None) -> set[str]:
    """Queues some live worker serves ("*" when a worker serves every queue)."""
    served: set[str] = set()
    for queues in _live(now).values_list("queues", flat=True):
        served.update(queues)
    return served


def queue_served(queue: str, *, served: set[str] | None = None) -> bool:
    served = queues_served() if served is None else served
    return "*" in served or queue in served


def work_state(row, queue: str, *, now=None) -> dict:
    """What a page of one row of tracked work shows and whether it polls: it polls only while
    someone works on it or a worker serves its queue. ``no_worker``: queued, and no live worker
    serves ``queue``; ``stalled``: running, but its worker stopped beating (the sweeper takes
    it back)."""
    now = now or timezone.now()
    status = row.status
    no_worker = status == "queued" and not queue_served(queue)
    stale_before = now - timedelta(seconds=settings.STORYAPP_CLAIM_STALE_SECONDS)
    # Only claimed work beats; a row without a heartbeat is never called stalled.
    beats = hasattr(row, "heartbeat_at")
    beat = getattr(row, "heartbeat_at", None)
    stalled = beats and status == "running" and (beat is None or beat < stale_before)
    return {
        "queue": queue,
        "no_worker": no_worker,
        # Queued on a served queue whose workers are all busy: with what ("job 12"), so the
        # page says what the row waits behind rather than only "queued".
        "behind": queue_behind(queue, now=now) if status == "queued" and not no_worker else [],
        "stalled": stalled,
        "polling": not (row.is_finished or no_worker or stalled),
    }
