"""Review pages under concurrent load, with 100k stories and 250k reviews (or --stories N).

    python bench/review.py [--json] [--seconds 30] [--clients 8] [--database sqlite|postgres]
                           [--stories 100000] [--reviews 2.5 x stories]

Builds a fresh database (SQLite in a temporary folder, or a new PostgreSQL database on
127.0.0.1, dropped afterwards) with bench/review_data.py, serves the app with gunicorn, signs
in one reviewer per client, then runs each scenario with all clients at once for --seconds and
prints p50/p95 latency per page:
  queue        GET /review/ (reserve the next story), then skip it (the next "next story")
  browser p1   GET /stories/
  browser p500 GET /stories/?page=500
  story page   GET /stories/<id>/ (random stories)
  dashboard    GET /
"""

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 100
POSTGRES = "postgres://postgres@127.0.0.1:5432/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def request(self, path: str, data: dict | None = None, htmx: bool = False) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if data is not None:
            req.add_header("X-CSRFToken", self.csrf())
            req.add_header("Referer", self.base + path)
        if htmx:
            req.add_header("HX-Request", "true")
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, username: str, password: str) -> None:
        self.request("/login/")
        status, body = self.request("/login/", {"username": username, "password": password})
        if "Sign out" not in body:
            raise SystemExit(f"login failed for {username}: {status}")


def timed(call) -> tuple[float, int]:
    started = time.perf_counter()
    status, body = call()
    return (time.perf_counter() - started) * 1000, status, body


def scenario_queue(client: Client, record):
    ms, status, body = timed(lambda: client.request("/review/"))
    record(ms, status)
    match = re.search(r"story #(\d+)", body)
    if match:
        story = match.group(1)
        ms, status, _ = timed(lambda: client.request(f"/review/{story}/skip/", {}, htmx=True))
        record(ms, status)


def scenario_get(path):
    def run(client: Client, record):
        ms, status, _ = timed(lambda: client.request(path))
        record(ms, status)

    return run


def scenario_story_page(stories: int):
    def run(client: Client, record):
        pk = random.randint(2, stories)  # ids 2..stories exist on both databases
        ms, status, _ = timed(lambda: client.request(f"/stories/{pk}/"))
        record(ms, status)

    return run


def postgres_database(name: str, action: str) -> None:
    """Create or drop a database on the local PostgreSQL server (psycopg, autocommit)."""
    import psycopg

    with psycopg.connect(POSTGRES + "postgres", autocommit=True) as conn:
        if action == "create":
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_scenario(clients, scenario, seconds):
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def record(ms, status):
        with lock:
            latencies.append(ms)
            if status >= 400:
                errors.append(status)

    def loop(client):
        while time.monotonic() < deadline:
            scenario(client, record)

    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(max(latencies), 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, help="default: 2.5 per story")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--workers", type=int, default=5, help="gunicorn worker processes (2 x cores + 1)"
    )
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument(
        "--from-db",
        help="SQLite only: copy this database (made by an earlier run's review_data.py) "
        "instead of making the data again",
    )
    args = parser.parse_args()
    if args.reviews is None:
        args.reviews = int(args.stories * 2.5)

    work = Path(tempfile.mkdtemp(prefix="storyapp-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyapp.settings",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STORYAPP_VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "STORYAPP_LOGIN_FAILURE_LIMIT": "1000",
        "LOG_LEVEL": "WARNING",
    }
    database = f"storyapp_bench_{os.getpid()}"
    if args.database == "postgres":
        postgres_database(database, "create")
        env["DATABASE_URL"] = POSTGRES + database
    python = sys.executable

    def manage(*command):
        subprocess.run(
            [python, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    try:
        setup_seconds, results = run_bench(args, env, manage, port)
    finally:
        if args.database == "postgres":
            postgres_database(database, "drop")
    report(args, setup_seconds, results)


def run_bench(args, env, manage, port):
    python = sys.executable
    started = time.perf_counter()
    if args.from_db:
        shutil.copyfile(args.from_db, env["DATABASE_URL"].removeprefix("sqlite:///"))
    manage("migrate", "--verbosity", "0")
    manage("createcachetable")
    if not args.from_db:
        subprocess.run(
            [python, "bench/review_data.py", "--stories", str(args.stories)]
            + ["--reviews", str(args.reviews)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    setup_seconds = time.perf_counter() - started

    gunicorn = Path(python).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "storyapp.wsgi",
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        clients = []
        for n in range(args.clients):
            client = Client(base)
            client.login(f"bench{n}", "bench-password")
            clients.append(client)
        for client in clients[:1]:  # warm the dashboard cache and each worker's imports
            for _ in range(args.workers * 2):
                client.request("/")
                client.request("/stories/")
        scenarios = {
            "queue next story": scenario_queue,
            "story browser page 1": scenario_get("/stories/"),
            "story browser page 500": scenario_get("/stories/?page=500"),
            "story page": scenario_story_page(args.stories),
            "dashboard": scenario_get("/"),
        }
        results = {name: run_scenario(clients, fn, args.seconds) for name, fn in scenarios.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return setup_seconds, results


def report(args, setup_seconds, results):
    if args.json:
        print(
            json.dumps(
                {
                    "database": args.database,
                    "stories": args.stories,
                    "reviews": args.reviews,
                    "clients": args.clients,
                    "seconds": args.seconds,
                    "setup_seconds": round(setup_seconds, 1),
                    "pages": results,
                },
                indent=2,
            )
        )
        return
    print(
        f"{args.stories} stories, {args.reviews} reviews, {args.database}, {args.clients} clients, "
        f"{args.seconds:g} s per page (data made in {setup_seconds:.0f} s)"
    )
    print(f"{'page':<26}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, row in results.items():
        flag = "" if row["p95_ms"] < TARGET_P95_MS else f"  (p95 over {TARGET_P95_MS} ms)"
        print(
            f"{name:<26}{row['requests']:>10}{row['errors']:>8}{row['p50_ms']:>10}"
            f"{row['p95_ms']:>10}{row['max_ms']:>10}{flag}"
        )


if __name__ == "__main__":
    main()
