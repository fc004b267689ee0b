"""Real workers in subprocesses, killed mid-job: every item ends done exactly once.

Each test runs against its own SQLite file (workers are separate processes) and a local
OpenAI-compatible server that answers slowly enough to kill a worker in the middle of a job.
"""

from pathlib import Path

import pytest

from tests.conftest import redis_up, require
from tests.generation.fault_server import FaultServer
from tests.workers import Site

ROOT = Path(__file__).resolve().parents[2]
N_THEMES = 12
SETUP = """
from curation.models import Theme
from generation.services import jobs, registry
for n in range({n}):
    Theme.objects.create(
        name=f"Crash theme {{n}}", name_key=f"crash theme {{n}}", status="approved"
    )
profile, _ = registry.model_register(name="slow", role="teacher", backend="openai", model="slow",
    base_url="{url}", concurrency=2, max_new_tokens=64, temperature=0.0)
job = jobs.job_create(kind="topics", model=profile)
print("JOB", job.pk)
"""


class JobSite(Site):
    def setup_job(self, server_url: str) -> int:
        self.prepare()
        out = self.manage("shell", "-c", SETUP.format(n=N_THEMES, url=server_url))
        return int(out.split("JOB")[1].split()[0])

    def items(self, job_id: int) -> dict[str, int]:
        rows = self.query(
            "SELECT status, COUNT(*) FROM generation_jobitem WHERE job_id=? GROUP BY status",
            job_id,
        )
        return dict(rows)

    def job_status(self, job_id: int) -> str:
        return self.query("SELECT status FROM generation_generationjob WHERE id=?", job_id)[0][0]

    def wait_for_success(self, job_id: int, logs) -> None:
        self.wait_until(lambda: self.job_status(job_id) == "succeeded", 120, "the job", logs)


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running


def _crash_and_recover(tmp_path, server, backend):
    site = JobSite(tmp_path, backend)
    job_id = site.setup_job(server.url)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    try:
        first = site.start_worker(logs[0])
        site.wait_until(lambda: site.items(job_id).get("done", 0) >= 2, 90, "first items", logs)
        site.kill(first)
        done_at_kill = site.items(job_id).get("done", 0)
        assert done_at_kill < N_THEMES, "the job finished before the kill: nothing was tested"
        site.start_worker(logs[1])
        site.wait_for_success(job_id, logs)
    finally:
        site.stop_all()
    assert site.items(job_id) == {"done": N_THEMES}
    per_theme = site.query(
        "SELECT theme_id, COUNT(*), COUNT(DISTINCT text_key) FROM curation_topic GROUP BY theme_id"
    )
    assert len(per_theme) == N_THEMES
    assert all(count == distinct == 7 for _, count, distinct in per_theme)
    return site, job_id


@pytest.mark.timeout(400)
def test_db_backend_worker_killed_mid_job_recovers_exactly_once(tmp_path, server):
    site, job_id = _crash_and_recover(tmp_path, server, "db")
    retried = site.query(
        "SELECT COUNT(*) FROM generation_jobitem WHERE job_id=? AND attempts > 1", job_id
    )[0][0]
    assert retried >= 1  # the killed worker's claim was swept and redone


@pytest.mark.redis
@pytest.mark.timeout(400)
def test_rq_backend_worker_killed_mid_job_recovers_exactly_once(tmp_path, server):
    require(redis_up(), "Redis is not reachable on 127.0.0.1:6379")
    _crash_and_recover(tmp_path, server, "rq")


@pytest.mark.redis
@pytest.mark.timeout(400)
def test_celery_backend_worker_killed_mid_job_recovers_exactly_once(tmp_path, server):
    require(redis_up(), "Redis is not reachable on 127.0.0.1:6379")
    _crash_and_recover(tmp_path, server, "celery")


@pytest.mark.timeout(300)
def test_two_workers_share_one_job_and_nothing_is_generated_twice(tmp_path, server):
    site = JobSite(tmp_path, "db")
    job_id = site.setup_job(server.url)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    try:
        site.start_worker(logs[0])
        site.start_worker(logs[1])
        site.wait_for_success(job_id, logs)
    finally:
        site.stop_all()
    workers = site.query(
        "SELECT COUNT(DISTINCT claimed_by) FROM generation_jobitem WHERE job_id=?", job_id
    )[0][0]
    assert workers == 2
    # Every theme was asked exactly once: no item was generated twice.
    assert sorted(server.themes_asked.values()) == [1] * N_THEMES
    assert site.query("SELECT COUNT(*) FROM curation_topic")[0][0] == N_THEMES * 7
