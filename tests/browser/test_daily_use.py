"""A reviewer's day and a newcomer's first hour: the nav fits, topics are triaged on a phone,
an evaluation's stories are read by those who may, and cancelling asks first."""

import pytest
from playwright.sync_api import expect

from curation.models import Topic
from generation.models import GenerationJob
from generation.services import jobs
from tests.browser.test_theme_curation import sign_in
from tests.factories import ModelProfileFactory, ThemeFactory, TopicFactory
from training.services.evaluation import evaluation_create
from training.services.runs import evaluation_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAV_ITEMS = "#main-nav > a, #main-nav > details > summary"


def test_the_admin_nav_fits_on_one_line_and_folds_into_a_menu_on_a_phone(
    chromium, page, live_server, admin_user, artefacts
):
    sign_in(page, live_server, "boss")
    tops = page.locator(NAV_ITEMS).evaluate_all(
        "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
    )
    assert len(tops) >= 6 and max(tops) - min(tops) <= 2, tops  # one line at 1280 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Every page is two clicks away: open a group, pick the page; the group marks the page
    page.locator("summary", has_text="Train").click()
    page.get_by_role("link", name="Fine-tunes").click()
    expect(page).to_have_url(f"{live_server.url}/training/")
    expect(page.locator("details.navgroup.current > summary")).to_have_text("Train")
    page.locator("summary", has_text="Generate").click()
    page.screenshot(path=str(artefacts / "nav-1280.png"))
    # The fine-tune form shows the LoRA fields only where the method may be LoRA
    expect(page.get_by_label("LoRA rank")).to_be_visible()
    page.get_by_label("Method").select_option("full")
    expect(page.get_by_label("LoRA rank")).to_be_hidden()
    page.get_by_label("Method").select_option("lora")
    expect(page.get_by_label("LoRA rank")).to_be_visible()
    # The story filter bar: one height for every control, no placeholder cut
    page.goto(live_server.url + "/stories/")
    heights = page.locator(".filters > input, .filters > select, .filters > button").evaluate_all(
        "items => items.map(i => Math.round(i.getBoundingClientRect().height))"
    )
    assert len(heights) >= 8 and len(set(heights)) == 1, heights
    cut = page.locator(".filters input[placeholder]").evaluate_all(
        """items => items.filter(i => {
             const probe = document.createElement('span');
             probe.style.font = getComputedStyle(i).font;
             probe.textContent = i.placeholder;
             document.body.appendChild(probe);
             const wide = probe.getBoundingClientRect().width;
             probe.remove();
             return wide > i.clientWidth - 8;
           }).map(i => i.placeholder)"""
    )
    assert cut == []

    phone = chromium.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    errors: list[str] = []
    small.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(small, live_server, "boss")
    expect(small.locator("#main-nav")).to_be_hidden()
    small.get_by_role("button", name="Menu").click()
    expect(small.locator("#main-nav")).to_be_visible()
    small.locator("summary", has_text="Curate").click()
    small.get_by_role("link", name="Topics", exact=True).click()
    expect(small).to_have_url(f"{live_server.url}/topics/")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    small.get_by_role("button", name="Menu").click()
    small.screenshot(path=str(artefacts / "nav-390.png"))
    phone.close()
    assert errors == []


def test_topic_triage_decides_a_topic_on_a_phone_without_scrolling_sideways(
    chromium, live_server, editor
):
    theme = ThemeFactory(name="The sea and those who wait for it", status="approved")
    topic = TopicFactory(
        theme=theme,
        text="A lighthouse keeper's daughter learns to read the weather from her father",
    )
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "ed")
    page.goto(live_server.url + "/topics/")
    row = page.locator("tr.row", has_text="lighthouse keeper")
    approve = row.get_by_role("button", name="Approve")
    expect(approve).to_be_visible()
    box = approve.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # on screen, not off to the right
    text_box = row.locator("td.topic-text").bounding_box()
    assert text_box["width"] > 250  # the topic reads as a line, not a word per line
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    approve.click()
    expect(page.locator("tr.row", has_text="lighthouse keeper")).to_have_count(0)
    assert Topic.objects.get(pk=topic.pk).status == "approved"
    context.close()
    assert errors == []


def test_an_evaluation_lists_its_stories_for_an_admin_and_never_for_a_reviewer(
    chromium, page, live_server, admin_user, make_user, monkeypatch
):
    from tests.training.test_evaluation import PerModel

    make_user("rev", "Reviewer")
    weak = ModelProfileFactory(name="weak", role="student")
    good = ModelProfileFactory(name="good", role="student")
    monkeypatch.setattr("training.services.runs.backend_for", PerModel)
    topics = [TopicFactory(status="approved", text=f"A careful fox {n}") for n in range(2)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    evaluation_run(evaluation_id=evaluation.pk)
    sign_in(page, live_server, "boss")
    page.goto(live_server.url + evaluation.get_absolute_url())
    page.get_by_role("link", name="Read the stories").click()
    stories = page.locator("article.sample")
    expect(stories).to_have_count(4)
    expect(stories.first).to_contain_text("A careful fox 0")
    expect(page.locator("article.sample .badge", has_text="cut off")).to_have_count(2)
    page.get_by_label("Verdict").select_option("passed")
    page.get_by_role("button", name="Filter").click()
    expect(stories).to_have_count(2)
    expect(page.locator("article.sample", has_text="failed as written")).to_have_count(0)

    reviewer = chromium.new_context()
    other = reviewer.new_page()
    sign_in(other, live_server, "rev")
    response = other.request.get(f"{live_server.url}/evaluations/{evaluation.pk}/stories/")
    assert response.status == 403
    reviewer.close()


def test_cancelling_a_job_asks_first(page, live_server, editor, teacher):
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    sign_in(page, live_server, "ed")
    page.goto(live_server.url + job.get_absolute_url())
    page.get_by_role("button", name="Cancel job").click()
    # the page fixture answers every dialog "no": the question was asked, nothing changed
    assert page.dialogs == [
        f"Cancel job #{job.pk}? Items already written are kept; the rest are not generated."
    ]
    page.wait_for_timeout(300)
    assert not GenerationJob.objects.get(pk=job.pk).cancel_requested
    page.dialogs.clear()
