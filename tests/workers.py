"""A site of real worker processes on its own SQLite file, for crash tests: start workers
of any task backend, kill them with SIGKILL, read the database while they run."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (children first found, then theirs)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


class Site:
    def __init__(self, tmp_path: Path, backend: str, **env):
        self.var = tmp_path
        self.db = tmp_path / "crash.sqlite3"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
        self.env = {
            **base,
            "DJANGO_SETTINGS_MODULE": "storyapp.settings",
            "SECRET_KEY": "crash-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": f"sqlite:///{self.db}",
            "STORYAPP_VAR_DIR": str(tmp_path),
            "STORYAPP_TASKS_BACKEND": backend,
            # The test run's own Redis database (tests/settings.py), never another run's.
            "REDIS_URL": settings.REDIS_URL,
            "STORYAPP_CLAIM_STALE_SECONDS": "3",
            "STORYAPP_HEARTBEAT_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.workers: list[subprocess.Popen] = []

    def manage(self, *args) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def prepare(self) -> None:
        """A migrated database and, for the Redis backends, an empty queue database."""
        if not self.db.exists():
            self.manage("migrate", "--verbosity", "0")
        if self.env["STORYAPP_TASKS_BACKEND"] in ("rq", "celery"):
            database = settings.REDIS_URL.rsplit("/", 1)[1]
            subprocess.run(
                ["redis-cli", "-n", database, "flushdb"], check=False, capture_output=True
            )

    def start_worker(self, log: Path, queues: str = "teacher") -> subprocess.Popen:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--queues", queues],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches forked children
        )
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        """SIGKILL the worker and every process it started: its process group, and children
        that left it (RQ's work horse calls setsid, so killing the group alone misses it)."""
        victims = [worker.pid, *descendants(worker.pid)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                self.kill(worker)

    def query(self, sql: str, *args):
        with sqlite3.connect(self.db, timeout=20) as conn:
            return conn.execute(sql, args).fetchall()

    def wait_until(self, predicate, timeout: float, what: str, logs=()):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{self.report(logs)}")

    def report(self, logs=()) -> str:
        """What the workers said (the end of each log that exists) and which are alive."""
        parts = []
        for log in map(Path, logs):
            text = log.read_text()[-2000:] if log.exists() else "(no log written yet)"
            parts.append(f"--- {log.name}\n{text}")
        alive = [w.pid for w in self.workers if w.poll() is None]
        parts.append(f"--- workers alive: {alive or 'none'}")
        return "\n".join(parts)
