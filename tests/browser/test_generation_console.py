import pytest
from playwright.sync_api import expect

from generation.models import GenerationJob
from generation.services.engine import job_work
from storyapp.workers import worker_beat
from tests.browser.test_theme_curation import sign_in
from tests.factories import ThemeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_launches_a_topic_job_and_watches_it_finish(
    page, live_server, editor, teacher, scripted, artefacts
):
    themes = [ThemeFactory(name=n, status="approved") for n in ("Courage", "<b>Exile</b>")]
    sign_in(page, live_server, "ed")
    page.locator("summary", has_text="Generate").click()  # the nav groups its links
    page.get_by_role("link", name="Jobs").click()
    page.get_by_label("What").select_option("topics")
    page.get_by_label("Model").select_option("teacher-1")
    page.get_by_label("Per theme / topic").fill("3")
    # A refused job keeps every input: fix the one field and send again.
    page.get_by_label("Or these ids").fill(f"{themes[0].pk}, x")
    page.get_by_role("button", name="Start job").click()
    expect(page.locator(".msg.error")).to_contain_text("Or these ids: Invalid id 'x'")
    expect(page.get_by_label("What")).to_have_value("topics")
    expect(page.get_by_label("Per theme / topic")).to_have_value("3")
    expect(page.get_by_label("Or these ids")).to_have_value(f"{themes[0].pk}, x")
    page.get_by_label("Per theme / topic").fill("")
    page.get_by_label("Or these ids").fill(",".join(str(t.pk) for t in themes))
    page.get_by_role("button", name="Start job").click()
    expect(page.locator("#job-status")).to_have_text("Queued")
    expect(page.get_by_text("No worker is serving queue")).to_be_visible()

    # A worker starts: "check again", and the page polls while the job can move; the worker
    # picks the job up and the page shows the outcome without a reload.
    worker_beat(worker_id="w1", backend="db", queues=["teacher"])
    page.get_by_role("link", name="check again").click()
    expect(page.get_by_text("No worker is serving queue")).to_have_count(0)
    job = GenerationJob.objects.get()
    job_work(job_id=job.pk)
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=15_000)
    expect(page.locator("#count-done")).to_have_text("2")
    expect(page.locator("td.topic-text", has_text="A tale of Courage number 1")).to_be_visible()
    expect(page.get_by_text("A tale of <b>Exile</b> number 1 in the city")).to_be_visible()
    page.screenshot(path=str(artefacts / "job-finished.png"), full_page=True)
    assert page.dialogs == [] and page.console_errors == []
