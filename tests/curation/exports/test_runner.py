"""Running exports: claimed once, taken back from dead workers, never lost, never half there."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from curation import tasks
from curation.exports import layout, runner, services
from curation.models import DatasetExport
from tests.curation.exports.support import approved_story, run_export


def queued_export(name="rel", **kwargs):
    return services.export_create(name=name, enqueue=False, **kwargs)


def data_files(export) -> dict[str, bytes]:
    folder = layout.export_folder(export)
    return {name: (folder / name).read_bytes() for name in layout.DATA_FILES}


@pytest.mark.django_db
def test_a_second_delivery_of_a_finished_export_changes_nothing():
    approved_story()
    export = run_export("once")
    before = data_files(export)
    # given the same task delivered again
    assert runner.export_run(export_id=export.pk) is None
    # then the release is still done and whole
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.DONE and export.error == ""
    assert data_files(export) == before


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_write_one_release_and_end_done():
    for _ in range(30):
        approved_story()
    export = queued_export("twice")
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver():
        try:
            barrier.wait()
            outcomes.append(runner.export_run(export_id=export.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.DONE, export.error
    assert sorted(o is None for o in outcomes) == [False, True]  # one ran, one did nothing
    assert export.attempts == 1
    assert [p.name for p in layout.export_root().iterdir()] == ["twice"]


def stall(export, token: str, *, minutes: int = 10) -> None:
    """Make the export look like its worker died mid-run, leaving a temp folder behind."""
    DatasetExport.objects.filter(pk=export.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=minutes)
    )
    partial = runner.temp_folder(export, token)
    partial.mkdir(parents=True)
    (partial / "train.jsonl").write_text('{"half": ')


@pytest.mark.django_db
def test_the_sweeper_queues_a_stalled_export_again_and_another_run_finishes_it(
    django_capture_on_commit_callbacks,
):
    approved_story()
    export = queued_export("stalled")
    token = runner.export_claim(export_id=export.pk, worker_id="dead-worker")
    stall(export, token)
    with mock.patch("curation.tasks.export_enqueue") as enqueue:
        assert tasks.sweep() == [export.pk]
    enqueue.assert_called_once_with(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.QUEUED
    assert list(layout.export_root().iterdir()) == []  # the dead run's temp folder is gone
    # the task runs again on a live worker
    assert runner.export_run(export_id=export.pk).status == DatasetExport.Status.DONE
    export.refresh_from_db()
    assert export.attempts == 2 and export.error == ""


@pytest.mark.django_db
def test_after_max_attempts_a_stalled_export_fails_with_a_reason(settings):
    settings.STORYAPP_MAX_ATTEMPTS = 2
    approved_story()
    export = queued_export("doomed")
    for _ in range(2):
        token = runner.export_claim(export_id=export.pk, worker_id="dead")
        stall(export, token)
        tasks.sweep()
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.FAILED
    assert "stopped responding 2 times" in export.error
    assert list(layout.export_root().iterdir()) == []


@pytest.mark.django_db
def test_a_live_heartbeat_keeps_the_sweeper_away():
    approved_story()
    export = queued_export("alive")
    runner.export_claim(export_id=export.pk, worker_id="busy")
    assert tasks.sweep() == []
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.RUNNING


@pytest.mark.django_db
def test_a_release_already_in_place_is_adopted_not_failed():
    """Its first run died between moving the folder into place and recording it."""
    approved_story()
    export = run_export("adopted")
    before = data_files(export)
    DatasetExport.objects.filter(pk=export.pk).update(
        status=DatasetExport.Status.QUEUED, files={}, story_ids=[]
    )
    again = runner.export_run(export_id=export.pk)
    assert again.status == DatasetExport.Status.DONE
    assert again.files == export.files and again.story_ids == export.story_ids
    assert data_files(again) == before


@pytest.mark.django_db
def test_a_tampered_release_in_place_fails_the_run_with_the_reason():
    approved_story()
    export = run_export("tampered")
    (layout.export_folder(export) / "train.jsonl").write_text("changed\n")
    DatasetExport.objects.filter(pk=export.pk).update(status=DatasetExport.Status.QUEUED)
    with pytest.raises(RuntimeError):
        runner.export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.FAILED
    assert "train.jsonl does not match its manifest" in export.error


@pytest.mark.django_db
def test_a_failed_run_leaves_no_temp_folder_and_can_be_retried(
    django_capture_on_commit_callbacks,
):
    approved_story()
    export = queued_export("flaky")
    with mock.patch.object(runner, "release_write", side_effect=OSError("disk full")):
        with pytest.raises(OSError):
            runner.export_run(export_id=export.pk)
    export.refresh_from_db()
    assert (export.status, export.error) == (DatasetExport.Status.FAILED, "disk full")
    assert list(layout.export_root().iterdir()) == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.export_retry(export=export)
    assert len(callbacks) == 1
    assert runner.export_run(export_id=export.pk).status == DatasetExport.Status.DONE


@pytest.mark.django_db
def test_only_a_failed_export_can_be_retried():
    approved_story()
    export = run_export("fine")
    with pytest.raises(Exception) as excinfo:
        services.export_retry(export=export)
    assert excinfo.value.code == "export_not_failed"
