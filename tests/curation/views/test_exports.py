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
