"""Measuring a child process: wall time and peak resident memory, side by side runs."""

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_measured(command, env, stdout, stderr=None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process (os.wait4 reads its usage)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed with {process.returncode}")
    return seconds, usage.ru_maxrss / 1024
