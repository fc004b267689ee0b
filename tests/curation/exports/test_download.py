import io
import zipfile

import pytest
from django.test import Client

from curation.exports import layout
from tests.curation.exports.support import approved_story, run_export


@pytest.mark.django_db
def test_export_pages_and_downloads_are_admin_only_and_paths_cannot_escape(make_user, admin_client):
    approved_story()
    export = run_export("rel")
    urls = [
        "/exports/",
        f"/exports/{export.name}/",
        f"/exports/{export.name}/download.zip",
        f"/exports/{export.name}/files/train.jsonl",
        f"/exports/{export.name}/files/hf/train/state.json",
    ]
    for role in ("Editor", "Reviewer"):
        client = Client()
        client.force_login(make_user(role.lower(), role))
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/exports/new/", {"name": "x"}).status_code == 403
    for url in urls:
        assert admin_client.get(url).status_code == 200, url
    for bad in (
        "../../../storyapp/settings.py",
        "..%2Fmanifest.json",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "nope.txt",
        "../rel/train.jsonl",
        "hf/../manifest.json",
        "hf/train/../../../../storyapp/settings.py",
        "hf/train",
    ):
        assert admin_client.get(f"/exports/{export.name}/files/{bad}").status_code == 404, bad


@pytest.mark.django_db
def test_zip_download_streams_every_file(admin_client):
    approved_story()
    export = run_export("zipped")
    response = admin_client.get(f"/exports/{export.name}/download.zip")
    assert response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == sorted(f"zipped/{n}" for n in layout.ALL_FILES)
    folder = layout.export_folder(export)
    assert archive.read("zipped/train.jsonl") == (folder / "train.jsonl").read_bytes()
