"""Real workers writing a large export: killed mid-export on each task backend, the export
still ends done with the same bytes as an uninterrupted run, and no temp folder stays behind.
On SQLite, an export run by a worker ends done while a heartbeat and other writers commit."""

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import redis_up, require
from tests.workers import Site

N_STORIES = 150_000
DATA_FILES = ("train.jsonl", "validation.jsonl", "train.parquet", "validation.parquet")
MAKE_STORIES = """
import json
from curation.models import Story, Theme, Topic
from curation.text import text_key
from generation import prompts
themes = Theme.objects.bulk_create(
    Theme(name=f"Export theme {{n}}", name_key=f"export theme {{n}}", status="approved")
    for n in range(50)
)
topics = Topic.objects.bulk_create(
    Topic(theme=themes[n % 50], text=f"Export topic {{n}}", text_key=f"export topic {{n}}",
          status="approved")
    for n in range({n} // 10)
)
Story.objects.bulk_create(
    (Story(topic=topics[n % len(topics)], status="approved", model_name="m",
           text=f"Story {{n}} starts here.\\n\\nStory {{n}} ends well.",
           prompt_messages=prompts.default_messages("story", {{"topic": f"Export topic {{n}}"}}))
     for n in range({n})),
    batch_size=5000,
)
"""
CREATE = """
from curation.exports.services import export_create
print("EXPORT", export_create(name="{name}", val_fraction=0.1, seed=7).pk)
"""


@pytest.fixture(scope="module")
def stories_db(tmp_path_factory) -> Path:
    """One database of approved stories, made once and copied for each test."""
    folder = tmp_path_factory.mktemp("export-template")
    site = Site(folder, "db")
    site.prepare()
    site.manage("shell", "-c", MAKE_STORIES.format(n=N_STORIES))
    return site.db


class ExportSite(Site):
    def __init__(self, tmp_path, backend, template: Path, **env):
        super().__init__(tmp_path, backend, **env)
        shutil.copy(template, self.db)

    def create_export(self, name: str) -> int:
        self.prepare()
        return int(self.manage("shell", "-c", CREATE.format(name=name)).split("EXPORT")[1])

    def status(self, export_id: int) -> tuple[str, str]:
        return self.query("SELECT status, error FROM curation_datasetexport WHERE id=?", export_id)[
            0
        ]

    def temp_folders(self) -> list[Path]:
        root = self.var / "exports"
        return sorted(root.glob(".*")) if root.exists() else []

    def files(self, name: str) -> dict[str, bytes]:
        return {f: (self.var / "exports" / name / f).read_bytes() for f in DATA_FILES}


def _kill_mid_export(tmp_path, stories_db, backend):
    site = ExportSite(tmp_path, backend, stories_db)
    export_id = site.create_export("crash")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    try:
        first = site.start_worker(logs[0], queues="default")
        # Kill it once the release is half written (its temp folder holds data).
        site.wait_until(
            lambda: any((p / "train.jsonl").exists() for p in site.temp_folders()),
            120,
            "the export to start writing",
            logs,
        )
        site.kill(first)
        assert site.status(export_id)[0] == "running", "it finished before the kill"
        site.start_worker(logs[1], queues="default")
        site.wait_until(lambda: site.status(export_id)[0] != "running", 120, "the sweeper", logs)
        site.wait_until(lambda: site.status(export_id)[0] == "done", 120, "the export", logs)
    finally:
        site.stop_all()
    assert site.temp_folders() == []
    attempts = site.query("SELECT attempts FROM curation_datasetexport WHERE id=?", export_id)
    assert attempts[0][0] == 2  # the killed run, then the one that finished
    # The same options, uninterrupted, give the same bytes.
    site.manage("export_dataset", "--name", "reference", "--seed", "7", "--val-fraction", "0.1")
    assert site.files("crash") == site.files("reference")


@pytest.mark.timeout(400)
def test_db_worker_killed_mid_export_the_export_still_ends_done(tmp_path, stories_db):
    _kill_mid_export(tmp_path, stories_db, "db")


@pytest.mark.redis
@pytest.mark.timeout(400)
def test_rq_worker_killed_mid_export_the_export_still_ends_done(tmp_path, stories_db):
    require(redis_up(), "Redis is not reachable on 127.0.0.1:6379")
    _kill_mid_export(tmp_path, stories_db, "rq")


@pytest.mark.redis
@pytest.mark.timeout(400)
def test_celery_worker_killed_mid_export_the_export_still_ends_done(tmp_path, stories_db):
    require(redis_up(), "Redis is not reachable on 127.0.0.1:6379")
    _kill_mid_export(tmp_path, stories_db, "celery")


@pytest.mark.timeout(300)
def test_an_export_by_a_worker_ends_done_while_others_write_on_sqlite(tmp_path, stories_db):
    """A fast heartbeat and a steady outside writer commit while the export streams."""
    site = ExportSite(tmp_path, "db", stories_db, STORYAPP_HEARTBEAT_SECONDS="0.05")
    export_id = site.create_export("busy")
    stop = threading.Event()
    commits = []

    def write():
        with sqlite3.connect(site.db, timeout=30) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS outside_writer (n INTEGER)")
            while not stop.is_set():
                conn.execute("INSERT INTO outside_writer VALUES (1)")
                conn.commit()
                commits.append(1)
                time.sleep(0.005)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    log = tmp_path / "worker.log"
    try:
        site.start_worker(log, queues="default")
        site.wait_until(lambda: site.status(export_id)[0] in ("done", "failed"), 180, "it", [log])
    finally:
        stop.set()
        writer.join()
        site.stop_all()
    assert site.status(export_id) == ("done", "")
    assert len(commits) > 100  # the outside writer really wrote throughout
