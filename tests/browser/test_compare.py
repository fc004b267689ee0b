import pytest
from playwright.sync_api import expect

from tests.browser.test_theme_curation import sign_in
from tests.factories import ModelProfileFactory, TopicFactory
from training.models import Judgment
from training.services.evaluation import evaluation_create
from training.services.runs import evaluation_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_judges_blind_pairs_with_the_keyboard_only(
    page, live_server, make_user, monkeypatch, artefacts
):
    from tests.training.test_evaluation import PerModel

    make_user("rev", "Reviewer")
    weak = ModelProfileFactory(name="weakling-model", role="student")
    good = ModelProfileFactory(name="goodly-model", role="student")
    monkeypatch.setattr("training.services.runs.backend_for", PerModel)
    topics = [TopicFactory(status="approved", text=f"A careful fox {n}") for n in range(3)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    evaluation_run(evaluation_id=evaluation.pk)
    sign_in(page, live_server, "rev")
    page.goto(live_server.url + "/compare/")
    heading = page.locator("#compare-topic")
    for n, key in enumerate(("1", "2", "0")):
        expect(heading).to_be_visible()
        asked = heading.inner_text()
        source = page.content()
        assert "weakling" not in source and "goodly" not in source
        if n == 0:  # a reason, by keyboard alone: R, type, Escape leaves the box, then 1
            page.keyboard.press("r")
            page.keyboard.type("Story 2 stops mid-sentence")
            page.keyboard.press("Escape")
        page.keyboard.press(key)
        if n < 2:  # the next pair (another topic) replaces this one
            expect(heading).not_to_have_text(asked)
    expect(page.locator("#compare-empty")).to_be_visible()
    expect(page.get_by_text("Saved.")).to_be_visible()
    judgments = list(Judgment.objects.order_by("pk"))
    assert [j.winner for j in judgments][2] == "tie"
    assert [j.reason for j in judgments] == ["Story 2 stops mid-sentence", "", ""]
    # "1" chose the story shown first, "2" the one shown second, whatever its model
    for judgment, left in zip(judgments[:2], (True, False), strict=True):
        assert (judgment.winner == "a") == (judgment.left_is_a == left)
    page.screenshot(path=str(artefacts / "compare.png"), full_page=True)
    assert page.dialogs == [] and page.console_errors == []
