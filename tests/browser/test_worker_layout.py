"""`make run`'s worker layout (``manage.py run_workers``: a process per queue), with real
workers and a real server on their own SQLite file: an export submitted in the browser while a
stories job runs finishes in seconds, and a job queued behind it says so."""

import socket
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.generation.fault_server import FaultServer
from tests.workers import ROOT, Site

pytestmark = [pytest.mark.browser]

N_TOPICS = 40
SETUP = """
from curation.models import Story, Theme, Topic
from curation.services.team import roles_sync
from generation.services import jobs, registry
from tests.factories import UserFactory
roles_sync()
UserFactory(username="boss", role="Admin")
theme = Theme.objects.create(name="Layout", name_key="layout", status="approved")
topics = [
    Topic.objects.create(theme=theme, text=f"Layout topic {{n}}", text_key=f"layout topic {{n}}",
                         status="approved")
    for n in range({n})
]
for topic in topics[:4]:
    Story.objects.create(topic=topic, text="A hill.\\n\\nA goat came home.", status="approved",
                         paragraph_count=2, word_count=6, model_name="elsewhere")
writer, _ = registry.model_register(name="slow-writer", role="student", backend="openai",
    model="slow-story", base_url="{url}", concurrency=1, max_new_tokens=64, temperature=0.0)
first = jobs.job_create(kind="stories", model=writer, selection=[t.pk for t in topics[4:]])
second = jobs.job_create(kind="stories", model=writer, selection=[topics[4].pk])
print("JOBS", first.pk, second.pk)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.timeout(300)
def test_an_export_never_waits_behind_a_stories_job_under_make_runs_layout(
    chromium, tmp_path, artefacts
):
    site = Site(tmp_path, "db", DEBUG="1")
    logs = [tmp_path / "workers.log", tmp_path / "server.log"]
    with FaultServer() as model_server:
        site.prepare()
        site.manage("createcachetable")
        out = site.manage("shell", "-c", SETUP.format(n=N_TOPICS, url=model_server.url))
        first, second = map(int, out.split("JOBS")[1].split())
        port = free_port()
        # The two processes `make run` starts besides the bootstrap: the workers, the server.
        site.workers.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "run_workers"],
                cwd=ROOT,
                env=site.env,
                stdout=logs[0].open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        site.workers.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=site.env,
                stdout=logs[1].open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        try:
            _walk(site, chromium, port, first, second, logs, artefacts)
        finally:
            site.stop_all()


def _walk(site, chromium, port, first, second, logs, artefacts):
    def job(pk):
        return site.query("SELECT status FROM generation_generationjob WHERE id=?", pk)[0][0]

    def done_items(pk):
        return site.query(
            "SELECT COUNT(*) FROM generation_jobitem WHERE job_id=? AND status='done'", pk
        )[0][0]

    site.wait_until(lambda: done_items(first) >= 2, 120, "the stories job to start", logs)
    url = f"http://127.0.0.1:{port}"
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url + "/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # The second job waits on the student queue behind the first, and its row says so.
    page.goto(url + "/jobs/")
    expect(page.locator(".waits-for")).to_contain_text(
        f"behind job {first} on queue student", timeout=15_000
    )

    page.goto(url + "/exports/")
    page.get_by_label("Name").fill("while-a-job-runs")
    started = time.monotonic()
    page.get_by_role("button", name="Export").click()
    expect(page.locator("#export-state")).to_have_text("Done", timeout=30_000)
    seconds = time.monotonic() - started
    assert job(first) == "running" and done_items(first) < N_TOPICS - 4, (
        "the stories job ended before the export did: nothing was tested"
    )
    print(f"export done in {seconds:.1f} s while stories job {first} ran")
    assert seconds < 20, site.report(logs)
    page.screenshot(path=str(artefacts / "export-beside-a-job.png"), full_page=True)
    context.close()
    assert errors == []
