import pytest

from curation.exports import runner
from curation.models import DatasetExport
from tests.curation.exports.support import approved_story


@pytest.mark.django_db
def test_export_from_the_page_runs_as_a_task(
    admin_client, django_capture_on_commit_callbacks, var_dir
):
    approved_story()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/exports/new/",
            {"name": "ui", "format": "chat", "val_fraction": "0.1", "seed": "42"},
        )
    assert response.status_code == 302 and len(callbacks) == 1
    export = DatasetExport.objects.get(name="ui")
    # The db backend's worker runs it; here the same service runs in-process.
    runner.export_run(export_id=export.pk)
    page = admin_client.get(export.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert page.status_code == 286 and b"Download the whole release" in page.content


@pytest.mark.django_db
def test_the_page_polls_only_while_someone_works_on_the_export(admin_client, var_dir):
    from datetime import timedelta

    from django.utils import timezone

    from curation.exports import services
    from storyapp.workers import worker_beat

    approved_story()
    export = services.export_create(name="watched", enqueue=False)
    url = export.get_absolute_url()
    # queued, and no worker serves its queue: say so, and do not poll
    page = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert page.status_code == 286
    assert b"No worker is serving queue" in page.content and b"hx-trigger" not in page.content
    # a worker serves the queue: poll
    worker_beat(worker_id="w", backend="db", queues=["default"])
    page = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and b'hx-trigger="every 2s"' in page.content
    # running, but its worker stopped beating: say so, and do not poll
    runner.export_claim(export_id=export.pk, worker_id="gone")
    DatasetExport.objects.filter(pk=export.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    page = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert page.status_code == 286 and b"stopped responding" in page.content


@pytest.mark.django_db
def test_a_failed_export_is_retried_from_its_page(admin_client, var_dir):
    approved_story()
    export = DatasetExport.objects.create(
        name="broken", status=DatasetExport.Status.FAILED, error="disk full", total=1
    )
    page = admin_client.get(export.get_absolute_url())
    assert b"Retry this export" in page.content and b"disk full" in page.content
    response = admin_client.post(f"/exports/{export.name}/retry/")
    assert response.status_code == 302
    export.refresh_from_db()
    assert (export.status, export.error) == (DatasetExport.Status.QUEUED, "")
    runner.export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.DONE


@pytest.mark.django_db
def test_two_admins_taking_the_same_name_at_once_get_a_form_error_not_a_500(admin_client, var_dir):
    from unittest import mock

    approved_story()
    DatasetExport.objects.create(name="race", total=1)
    # The other admin's row appears between the check and the insert.
    with mock.patch("curation.exports.services._name_in_use", return_value=False):
        response = admin_client.post(
            "/exports/new/",
            {"name": "race", "format": "chat", "val_fraction": "0.1", "seed": "42"},
            follow=True,
        )
    assert response.status_code == 200
    assert b"An export named race exists" in response.content
    assert DatasetExport.objects.filter(name="race").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [str(2**63), "-1", "1e3", "²"])
def test_an_out_of_range_seed_is_a_form_error(admin_client, var_dir, seed):
    approved_story()
    response = admin_client.post(
        "/exports/new/",
        {"name": "seedy", "format": "chat", "val_fraction": "0.1", "seed": seed},
        follow=True,
    )
    assert response.status_code == 200 and b"seed" in response.content
    assert not DatasetExport.objects.exists()
