"""Start a real OpenAI-compatible server (``transformers serve``) on a local model folder.

Used by the tests and the generation benchmark; handy for demos of the openai backend.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command() -> list[str] | None:
    exe = Path(sys.executable).with_name("transformers")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("transformers")
    return [found] if found else None


@contextlib.contextmanager
def transformers_serve(folder: Path, *, continuous_batching: bool = False, log: Path | None = None):
    """Yield the base URL (``http://127.0.0.1:PORT/v1``) of a server for ``folder``."""
    command = serve_command()
    if command is None:
        raise RuntimeError("transformers serve is not installed (transformers[serving])")
    port = free_port()
    args = [*command, "serve", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--device", "cpu"] + (["--continuous-batching"] if continuous_batching else [])
    out = log.open("w") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        args, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=out, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("transformers serve did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
