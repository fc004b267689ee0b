"""A new kind of tracked work is a model on storyapp's ClaimedWork and a work function in
storyapp.claims.run_claimed (tests/toywork, nothing else): it runs, and it survives a worker
killed mid-run like exports, fine-tunes and evaluations do."""

from types import SimpleNamespace

import pytest

from tests.toywork.models import ToyWork
from tests.toywork.tasks import toy_work_run
from tests.workers import Site


@pytest.mark.django_db
def test_the_skeleton_runs_it_once_and_records_the_outcome():
    work = ToyWork.objects.create(seconds=0.2)
    done = toy_work_run(work_id=work.pk)
    assert (done.status, done.attempts, done.result) == ("done", 1, "slept 0.2 s")
    assert done.finished_at is not None and done.claim_token == ""
    assert toy_work_run(work_id=work.pk) is None  # a duplicated delivery does nothing


@pytest.mark.django_db
def test_a_failure_is_recorded_with_its_reason(monkeypatch):
    work = ToyWork.objects.create(seconds=-1)

    def broken(*args):
        raise OSError("disk full (token sk-abcdefghijklmnopqrstuvwxyz0123)")

    # the work's clock breaks (the toy module's reference to time, not time itself)
    monkeypatch.setattr("tests.toywork.tasks.time", SimpleNamespace(monotonic=broken))
    with pytest.raises(OSError):
        toy_work_run(work_id=work.pk)
    work.refresh_from_db()
    assert work.status == "failed" and work.error.startswith("OSError: disk full")
    assert "sk-abcdefghijklmnopqrstuvwxyz0123" not in work.error


SETUP = """
from tests.toywork.models import ToyWork
from tests.toywork.tasks import toy_work_task
work = ToyWork.objects.create(seconds=6)
toy_work_task.enqueue(work_id=work.pk)
print("WORK", work.pk)
"""


@pytest.mark.timeout(300)
def test_a_worker_killed_mid_run_leaves_the_toy_work_to_another(tmp_path):
    site = Site(tmp_path, "db", DJANGO_SETTINGS_MODULE="tests.toywork.settings")
    site.prepare()
    work_id = int(site.manage("shell", "-c", SETUP).split("WORK")[1])
    logs = [tmp_path / "a.log", tmp_path / "b.log"]

    def row():
        return site.query(
            "SELECT status, steps, attempts, result FROM toywork_toywork WHERE id=?", work_id
        )[0]

    try:
        first = site.start_worker(logs[0], queues="default")
        site.wait_until(lambda: row()[0] == "running" and row()[1] > 0, 90, "the first run", logs)
        site.kill(first)
        assert row()[0] == "running", "it finished before the kill"
        site.start_worker(logs[1], queues="default")
        site.wait_until(lambda: row()[0] in ("done", "failed"), 120, "the second run", logs)
    finally:
        site.stop_all()
    status, _, attempts, result = row()
    assert (status, attempts, result) == ("done", 2, "slept 6 s")
