"""The curation journey in Chromium: the queue only serves wanted stories, gates reject before
people look, rules over filters, amended reviews, the team page, adjudication, and every page
on a narrow screen."""

import pytest
from playwright.sync_api import expect

from curation.models import Adjudication, Review, Story
from curation.services.stories import story_add_generated
from tests.browser.test_theme_curation import sign_in
from tests.conftest import PASSWORD
from tests.factories import (
    DatasetExportFactory,
    ModelProfileFactory,
    StoryFactory,
    TopicFactory,
    review_data,
)
from training.models import FineTuneJob
from training.services.evaluation import evaluation_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD = "Ada mended clocks for the whole town.\n\nOne night the clocks mended her heart."


def generated(topic, text, finish_reason="stop", sample=0):
    return story_add_generated(
        topic_id=topic.pk,
        theme_id=topic.theme_id,
        sample_index=sample,
        text=text,
        provenance={"finish_reason": finish_reason, "generation_job_id": 12},
    )


def test_the_queue_serves_only_wanted_stories_that_passed_the_gates(
    page, live_server, make_user, artefacts
):
    make_user("rev", "Reviewer")
    wanted = TopicFactory(text="A clockmaker who mends hearts", status="approved")
    rejected_topic = TopicFactory(text="A topic triage rejected", status="rejected")
    generated(rejected_topic, GOOD)
    cut = generated(wanted, "Ada began to mend the clock and then", "length", sample=1)
    good = generated(wanted, GOOD)
    sign_in(page, live_server, "rev")
    page.goto(live_server.url + "/review/")
    expect(page.locator("#story-topic")).to_have_text("A clockmaker who mends hearts")
    page.keyboard.press("5")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    expect(page.locator("#queue-empty")).to_be_visible()
    assert list(Review.objects.values_list("story_id", flat=True)) == [good.pk]
    # the cut-off story is there, rejected by the checks, with its reason
    page.goto(live_server.url + "/stories/?decided_by=checks")
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".badge", has_text="auto-rejected")).to_be_visible()
    row.get_by_role("link", name=str(cut.pk)).click()
    expect(page.locator(".decision-record")).to_contain_text("Decided by the automatic checks")
    expect(page.locator(".decision-record")).to_contain_text("automatic checks: cut off")
    page.screenshot(path=str(artefacts / "auto-rejected.png"), full_page=True)
    assert page.dialogs == [] and page.console_errors == []


def test_an_admin_rejects_every_story_of_a_filter_after_confirming(
    page, live_server, admin_user, artefacts
):
    cut = [StoryFactory(generation_job_id=12, cut_off=True) for _ in range(3)]
    keep = StoryFactory(generation_job_id=12)
    sign_in(page, live_server, "boss")
    page.goto(live_server.url + "/stories/?job=12&check=cut_off")
    expect(page.locator("tbody tr")).to_have_count(3)
    page.locator("#bulk-reject").click()
    expect(page.locator("#bulk-count")).to_have_text("3")
    page.get_by_label("Reason (recorded with each)").fill("Cut off in job 12")
    page.get_by_label("I checked the filter").check()
    page.get_by_role("button", name="Apply to 3 stories").click()
    expect(page.get_by_text("3 of 3 stories changed.")).to_be_visible()
    assert set(
        Story.objects.filter(pk__in=[s.pk for s in cut]).values_list("status", flat=True)
    ) == {"rejected"}
    assert Story.objects.get(pk=keep.pk).status == "pending"
    assert Adjudication.objects.filter(reason="Cut off in job 12").count() == 3
    page.screenshot(path=str(artefacts / "bulk-rejected.png"), full_page=True)
    assert page.dialogs == [] and page.console_errors == []


def test_a_reviewer_amends_a_review(page, live_server, make_user):
    from curation.services.reviews import review_submit

    alice = make_user("alice", "Reviewer")
    story = StoryFactory()
    review_submit(story_id=story.pk, reviewer=alice, data=review_data(2, "reject"))
    sign_in(page, live_server, "alice")
    page.goto(live_server.url + story.get_absolute_url())
    form = page.locator("#amend-form")
    form.get_by_label("Overall").select_option("5")
    form.get_by_label("Decision").select_option("approve")
    form.get_by_role("button", name="Save the amended review").click()
    expect(page.get_by_text(f"Your review of story #{story.pk} is amended.")).to_be_visible()
    review = Review.objects.get()
    assert (review.overall, review.decision) == (5, "approve") and review.amended_at
    assert page.dialogs == [] and page.console_errors == []


def test_an_admin_creates_deactivates_and_unlocks_users(chromium, live_server, admin_user):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    confirmations = []
    page.on("dialog", lambda d: (confirmations.append(d.message), d.accept()))
    sign_in(page, live_server, "boss")
    page.goto(live_server.url + "/team/")
    page.get_by_text("New user").click()
    page.get_by_label("Username").fill("newbie")
    page.locator("#create-user").get_by_label("Reviewer").check()
    page.get_by_role("button", name="Create (a password is generated)").click()
    password = page.locator("#one-time-password code").inner_text()
    assert len(password) >= 12

    # newbie fails to sign in five times elsewhere and is locked out
    other = chromium.new_context().new_page()
    for _ in range(5):
        other.goto(live_server.url + "/login/")
        other.get_by_label("Username").fill("newbie")
        other.get_by_label("Password").fill("wrong")
        other.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + "/team/")
    row = page.locator('tr[data-user="newbie"]')
    expect(row.locator(".badge", has_text="locked out")).to_be_visible()
    row.get_by_role("button", name="Unlock").click()
    expect(page.locator('tr[data-user="newbie"] .badge', has_text="locked out")).to_have_count(0)
    other.goto(live_server.url + "/login/")
    other.get_by_label("Username").fill("newbie")
    other.get_by_label("Password").fill(password)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", name="Overview")).to_be_visible()

    page.locator('tr[data-user="newbie"]').get_by_role("button", name="Deactivate").click()
    expect(page.locator('tr[data-user="newbie"] .badge', has_text="deactivated")).to_be_visible()
    assert confirmations == ["Deactivate newbie? They can no longer sign in; their reviews stay."]
    context.close()


def test_an_admin_adjudicates_with_save_and_next(page, live_server, admin_user, make_user):
    from tests.factories import ReviewFactory

    first, second = StoryFactory(status="adjudication"), StoryFactory(status="adjudication")
    ReviewFactory(story=first, reviewer=make_user("r1", "Reviewer"), edited_text="A new text.")
    sign_in(page, live_server, "boss")
    page.goto(live_server.url + "/adjudication/")
    page.get_by_role("link", name="Start with the first").click()
    expect(page.locator(".diff-text ins").first).to_be_visible()  # the edit, side by side
    expect(page.get_by_label("Approve")).not_to_be_checked()
    expect(page.get_by_label("Reject")).not_to_be_checked()
    page.get_by_label("Approve").check()
    page.get_by_label("Reason (recorded)").fill("The edit fixes it")
    page.get_by_role("button", name="Save and next").click()
    assert page.url.endswith(f"/adjudication/{second.pk}/")
    page.get_by_label("Reject").check()
    page.get_by_label("Reason (recorded)").fill("Off topic")
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_text("Nothing else needs adjudication.")).to_be_visible()
    assert list(Story.objects.order_by("pk").values_list("status", flat=True)) == [
        "approved",
        "rejected",
    ]
    assert page.dialogs == [] and page.console_errors == []


def test_an_admin_adjudicates_by_keyboard_alone(page, live_server, admin_user):
    first, second = StoryFactory(status="adjudication"), StoryFactory(status="adjudication")
    sign_in(page, live_server, "boss")
    page.goto(live_server.url + f"/adjudication/{first.pk}/")
    page.keyboard.press("a")  # approve: the reason takes the focus
    page.keyboard.type("Both reviewers missed the ending")
    page.keyboard.press("Enter")  # saves and opens the next
    expect(page).to_have_url(f"{live_server.url}/adjudication/{second.pk}/")
    page.keyboard.press("r")
    page.keyboard.type("Off topic")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Nothing else needs adjudication.")).to_be_visible()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("approved", "rejected")
    assert page.dialogs == []


PAGES_390 = [
    "/",
    "/themes/",
    "/themes/import/",
    "/topics/",
    "/review/",
    "/stories/",
    "/adjudication/",
    "/guidelines/",
    "/exports/",
    "/team/",
    "/jobs/",
    "/models/",
    "/prompts/",
    "/training/",
    "/evaluations/",
    "/compare/",
    "/compare/results/",
]


# The elements that reach past the screen's right edge, for the failure report.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391
    && e.parentElement.getBoundingClientRect().right <= 391)
  .slice(0, 3).map(e => e.tagName + '.' + e.className + '[' + (e.name || '') + ']')"""


def test_no_page_scrolls_sideways_on_a_narrow_screen(chromium, live_server, admin_user, teacher):
    from generation.services import jobs

    story = StoryFactory(status="adjudication", text=GOOD * 3)
    theme = story.topic.theme
    job = jobs.job_create(kind="topics", model=teacher, selection=[theme.pk], enqueue=False)
    evaluation = evaluation_create(
        profiles=[teacher, ModelProfileFactory(name="a-rather-long-student-model-name")],
        topic_ids=[story.topic_id],
        enqueue=False,
    )
    release = DatasetExportFactory(name="a-release-with-a-rather-long-name-2026-11")
    finetune = FineTuneJob.objects.create(
        release=release,
        base=teacher,
        name="a-student-with-a-rather-long-name-round-2",
        total_steps=40,
        step=12,
        losses=[[n, 3.0 - n / 10] for n in range(1, 13)],
    )
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wide = {}
    for path in [
        *PAGES_390,
        story.get_absolute_url(),
        f"/adjudication/{story.pk}/",
        theme.get_absolute_url(),
        job.get_absolute_url(),
        teacher.get_absolute_url(),
        "/models/new/",
        evaluation.get_absolute_url(),
        f"/lineage/models/{teacher.name}/",
        release.get_absolute_url(),
        f"/lineage/releases/{release.name}/",
        finetune.get_absolute_url(),
        "/stories/bulk/?decision=reject&check=cut_off",
        "/topics/bulk/?decision=approve&status=all",
    ]:
        response = page.goto(live_server.url + path)
        assert response.ok, (path, response.status)  # an error page proves nothing
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = (width, page.evaluate(WIDEST))
    assert wide == {}
    context.close()
