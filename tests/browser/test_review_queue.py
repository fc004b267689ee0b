import pytest
from playwright.sync_api import expect

from curation.models import Review
from tests.browser.test_theme_curation import sign_in
from tests.factories import StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shown_story_id(page) -> int:
    text = page.locator("#review-panel p.muted").first.inner_text()
    return int(text.rsplit("#", 1)[1])


def test_reviewer_reviews_three_stories_with_the_keyboard_only(
    chromium, live_server, make_user, artefacts
):
    stories = [StoryFactory() for _ in range(5)]
    make_user("alice", "Reviewer")
    make_user("bob", "Reviewer")
    alice_ctx, bob_ctx = chromium.new_context(), chromium.new_context()
    alice, bob = alice_ctx.new_page(), bob_ctx.new_page()
    dialogs, errors = [], []
    for page in (alice, bob):
        page.set_default_timeout(10_000)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    sign_in(alice, live_server, "alice")
    sign_in(bob, live_server, "bob")
    alice.goto(live_server.url + "/review/")
    held_by_alice = shown_story_id(alice)
    bob.goto(live_server.url + "/review/")
    held_by_bob = shown_story_id(bob)
    assert held_by_alice != held_by_bob  # a reserved story is not offered to anyone else

    reviewed = []
    for _ in range(3):
        current = shown_story_id(alice)
        reviewed.append(current)
        alice.keyboard.press("4")  # overall only
        alice.keyboard.press("f")  # arm "follows the brief"...
        alice.keyboard.press("3")  # ...and rate it
        alice.keyboard.press("a")
        alice.keyboard.press("Enter")
        expect(alice.get_by_text(f"Review of story #{current} saved")).to_be_visible()
    alice.screenshot(path=str(artefacts / "review-after-three.png"), full_page=True)

    assert held_by_bob not in reviewed
    saved = Review.objects.filter(reviewer__username="alice")
    assert sorted(saved.values_list("story_id", flat=True)) == sorted(reviewed)
    assert set(saved.values_list("overall", "brief", "coherence", "decision")) == {
        (4, 3, None, "approve")
    }
    assert {s.pk for s in stories} >= set(reviewed)

    alice.goto(live_server.url + "/")
    row = alice.locator("tr", has_text="alice")
    expect(row.locator(".reviewer-count")).to_have_text("3")
    expect(alice.locator("#stories-pending")).to_have_text("5")  # each needs two reviews
    assert dialogs == [] and errors == []  # no CSP violation after a swapped review
    alice_ctx.close()
    bob_ctx.close()


def test_a_reviewer_rejects_with_a_reason_by_keyboard_only(chromium, live_server, make_user):
    StoryFactory.create_batch(2)
    make_user("carol", "Reviewer")
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "carol")
    page.goto(live_server.url + "/review/")
    first = shown_story_id(page)
    page.keyboard.press("2")
    page.keyboard.press("r")  # reject: the reasons take the focus
    page.keyboard.press("ArrowDown")  # Off-topic
    page.keyboard.press("ArrowDown")  # Wrong format: one reason a press
    page.keyboard.press("Enter")  # submits, does not open the list
    expect(page.get_by_text(f"Review of story #{first} saved")).to_be_visible()
    second = shown_story_id(page)
    page.keyboard.press("1")
    page.keyboard.press("r")
    page.keyboard.press("Escape")  # leaves the reasons...
    page.keyboard.press("3")  # ...and the keys work again: overall 3
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Review of story #{second} saved")).to_be_visible()
    saved = dict(
        Review.objects.filter(reviewer__username="carol").values_list("story_id", "reason")
    )
    assert saved == {first: "wrong_format", second: ""}
    overall = dict(
        Review.objects.filter(reviewer__username="carol").values_list("story_id", "overall")
    )
    assert overall == {first: 2, second: 3}
    assert errors == []
    context.close()
