"""Nothing stays queued for ever: a row whose task was lost before any worker took it is handed
again by a live, idle worker's sweeper (bounded, then failed with the reason); and the RQ
backend on SQLite runs fine-tunes and stories jobs to the end with a real worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from storyapp import claims
from storyapp.models import WorkerHeartbeat
from tests.conftest import redis_up, require
from tests.factories import ModelProfileFactory
from tests.generation.fault_server import FaultServer
from tests.training.test_worker_crash import SETUP
from tests.workers import Site
from training.models import FineTuneJob
from training.services.finetune import finetune_create


def _worker(*, busy: bool, idle_for: float = 60, queues=("train",)) -> WorkerHeartbeat:
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        worker_id=f"w-{busy}-{idle_for}",
        hostname="h",
        pid=1,
        backend="db",
        queues=list(queues),
        activity="fine-tune 1" if busy else "",
        idle_since=None if busy else now - timedelta(seconds=idle_for),
        last_seen=now,
    )


def _lost(model=FineTuneJob):
    return model.objects.filter(status=model.Status.QUEUED)


@pytest.fixture
def waiting(release, tiny_student, settings):
    settings.STORYAPP_REQUEUE_SECONDS = 30
    settings.STORYAPP_MAX_ATTEMPTS = 2
    job = finetune_create(
        release=release, base=tiny_student, name="lost", max_length=128, enqueue=False
    )
    FineTuneJob.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - timedelta(seconds=60))
    return job


@pytest.mark.django_db
def test_a_queued_row_is_handed_again_only_when_an_idle_worker_would_have_taken_it(
    waiting, settings
):
    handed = []

    def requeue():
        return claims.requeue_lost(
            FineTuneJob, lost=_lost(), queue_of=lambda row: "train", enqueue=handed.append
        )

    assert requeue() == ([], [])  # no worker at all: nobody could have lost it
    busy = _worker(busy=True)
    assert requeue() == ([], [])  # a busy worker: the task may just be waiting its turn
    busy.delete()
    _worker(busy=False, queues=("teacher",))
    assert requeue() == ([], [])  # idle, but on another queue
    settings.STORYAPP_HEARTBEAT_SECONDS = 5
    _worker(busy=False, idle_for=8)
    assert requeue() == ([], [])  # idle for less than two heartbeats
    _worker(busy=False, idle_for=11)
    assert requeue() == ([waiting.pk], [])
    assert [row.pk for row in handed] == [waiting.pk]
    row = FineTuneJob.objects.get(pk=waiting.pk)
    assert row.requeues == 1 and timezone.now() - row.enqueued_at < timedelta(seconds=5)
    assert requeue() == ([], [])  # just handed: it waits its set time again


@pytest.mark.django_db
def test_after_the_attempts_the_row_fails_with_the_reason(waiting):
    _worker(busy=False)
    FineTuneJob.objects.filter(pk=waiting.pk).update(requeues=2)
    again, failed = claims.requeue_lost(
        FineTuneJob, lost=_lost(), queue_of=lambda row: "train", enqueue=pytest.fail
    )
    assert (again, failed) == ([], [waiting.pk])
    row = FineTuneJob.objects.get(pk=waiting.pk)
    assert row.status == "failed" and "no worker took its task after 2 hand-overs" in row.error


@pytest.mark.django_db
def test_the_apps_sweepers_hand_every_kind_of_tracked_work_again(waiting):
    """Generation jobs, exports, fine-tunes and evaluations: each app registers its requeue."""
    from curation.exports.services import export_create
    from curation.models import DatasetExport, Theme
    from generation.models import GenerationJob
    from generation.services.jobs import job_create
    from storyapp.workers import sweep_all
    from training.models import Evaluation

    _worker(busy=False, queues=("*",))
    Theme.objects.create(name="Lost", name_key="lost", status="approved")
    profile = ModelProfileFactory(name="srv", role="teacher")
    job = job_create(kind="topics", model=profile, enqueue=False)
    export = export_create(name="lost-release", enqueue=False)
    evaluation = Evaluation.objects.create(name="ev", topic_ids=[1], seed=1)
    old = timezone.now() - timedelta(seconds=60)
    for model in (DatasetExport, GenerationJob, Evaluation):
        model.objects.update(enqueued_at=old)
    sweep_all()
    for model, pk in (
        (FineTuneJob, waiting.pk),
        (DatasetExport, export.pk),
        (GenerationJob, job.pk),
        (Evaluation, evaluation.pk),
    ):
        assert model.objects.get(pk=pk).requeues == 1, model.__name__


# The crash tests' release and base model; the fine-tune short, and enqueued or not.
FINETUNE = SETUP.replace("learning_rate=1e-3)", "learning_rate=1e-3, enqueue={enqueue})")
STORIES = """
profile, _ = model_register(name="writer", role="teacher", backend="openai", model="ok",
    base_url="{url}", concurrency=2, max_new_tokens=64)
from generation.services.jobs import job_create
print("STORIES", job_create(kind="stories", model=profile, selection="approved").pk)
"""


def _status(site: Site, table: str, pk: int):
    return site.query(f"SELECT status, requeues FROM {table} WHERE id=?", pk)[0]


@pytest.mark.timeout(300)
def test_a_queued_fine_tune_whose_task_was_lost_is_taken_by_a_live_worker(
    tmp_path, tiny_model_folder
):
    assert "enqueue={enqueue}" in FINETUNE
    site = Site(tmp_path, "db", STORYAPP_REQUEUE_SECONDS="2")
    site.prepare()
    # Created without its task: as if the broker lost it before any worker took it.
    out = site.manage(
        "shell",
        "-c",
        FINETUNE.format(folder=tiny_model_folder, epochs=1, enqueue=False, stories=16, batch=2),
    )
    job_id = int(out.split("JOB")[1])
    log = tmp_path / "worker.log"
    try:
        site.start_worker(log, queues="train")
        # The set time (2 s) plus two idle heartbeats, then one short training.
        site.wait_until(
            lambda: _status(site, "training_finetunejob", job_id)[0] in ("done", "failed"),
            150,
            "the lost fine-tune to be handed again and trained",
            [log],
        )
    finally:
        site.stop_all()
    assert _status(site, "training_finetunejob", job_id) == ("done", 1)
    assert "its task was lost; enqueued again" in log.read_text()


@pytest.mark.timeout(400)
def test_rq_on_sqlite_runs_a_fine_tune_and_a_stories_job_to_the_end(tmp_path, tiny_model_folder):
    """RQ's SimpleWorker works in the worker process: no forked work-horse inherits the
    SQLite connection or the heartbeat thread."""
    require(redis_up(), "Redis is not running on 127.0.0.1:6379")
    site = Site(tmp_path, "rq")
    site.prepare()
    log = tmp_path / "worker.log"
    with FaultServer() as server:
        out = site.manage(
            "shell",
            "-c",
            FINETUNE.format(folder=tiny_model_folder, epochs=1, enqueue=True, stories=16, batch=2)
            + STORIES.format(url=server.url),
        )
        job_id = int(out.split("JOB")[1].split()[0])
        stories_id = int(out.split("STORIES")[1])
        try:
            worker = site.start_worker(log, queues="*")
            site.wait_until(
                lambda: (
                    _status(site, "generation_generationjob", stories_id)[0]
                    not in ("queued", "running")
                    and _status(site, "training_finetunejob", job_id)[0] in ("done", "failed")
                ),
                300,
                "the stories job and the fine-tune on the RQ worker",
                [log],
            )
        finally:
            site.stop_all()
    assert _status(site, "generation_generationjob", stories_id) == ("succeeded", 0)
    assert _status(site, "training_finetunejob", job_id) == ("done", 0)
    written = site.query(
        "SELECT COUNT(*) FROM generation_jobitem WHERE job_id=? AND status='done'", stories_id
    )
    assert written == [(16,)]
    assert "Traceback" not in log.read_text()
    # The work ran in the worker process itself, not in a forked child that inherited its
    # database connection and heartbeat thread (claimed_by is host:pid:thread).
    ran_in = site.query("SELECT claimed_by FROM training_finetunejob WHERE id=?", job_id)
    ran_in += site.query("SELECT DISTINCT claimed_by FROM generation_jobitem")
    assert {row[0].split(":")[1] for row in ran_in} == {str(worker.pid)}
