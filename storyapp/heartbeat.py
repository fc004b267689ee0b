"""A heartbeat beside long work: a thread that calls ``touch`` every few seconds, on its own
database connection, until the work is over. Claims use it to show their worker is alive."""

import contextlib
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def heartbeat(touch: Callable[[], object], *, interval: float | None = None):
    """Run ``touch()`` every ``interval`` seconds (STORYAPP_HEARTBEAT_SECONDS) while the
    ``with`` block runs; 0 turns it off. A busy database delays a beat, it never ends the work:
    the sweeper's grace period is several beats long."""
    interval = settings.STORYAPP_HEARTBEAT_SECONDS if interval is None else interval
    if interval <= 0:
        yield
        return
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(interval):
                try:
                    touch()
                except DatabaseError:
                    logger.warning("heartbeat skipped: database busy", exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
