"""The gates measured against people: figures per gate and overall, and the disagreements."""

import pytest
from django.urls import reverse

from curation.agreement import gate_agreement
from curation.models import Adjudication, Story
from tests.factories import StoryFactory


@pytest.fixture
def decided(db):
    """10 clean stories (8 approved, 2 rejected by people), 4 flagged repetitive (3 rejected,
    1 approved), 1 automatic rejection (cut off) an admin reversed, 1 still auto-rejected and
    2 undecided."""
    stories = {"clean_rejected": [], "flag_approved": [], "reversed": []}
    for i in range(10):
        story = StoryFactory(status="approved" if i < 8 else "rejected")
        if i >= 8:
            stories["clean_rejected"].append(story)
    for i in range(4):
        story = StoryFactory(status="rejected" if i < 3 else "approved", repeated_ngram_ratio=0.5)
        if i == 3:
            stories["flag_approved"].append(story)
    reversed_story = StoryFactory(status="approved", cut_off=True)
    Adjudication.objects.create(
        story=reversed_story,
        admin=None,
        from_status="pending",
        to_status="rejected",
        reason="automatic checks: cut off",
    )
    stories["reversed"].append(reversed_story)
    still = StoryFactory(status="rejected", cut_off=True, auto_rejected=True)
    Adjudication.objects.create(
        story=still, admin=None, from_status="pending", to_status="rejected", reason="x"
    )
    StoryFactory.create_batch(2)  # pending: nobody decided
    return stories


def test_agreement_per_gate_and_overall_with_intervals(decided):
    figures = gate_agreement()
    overall = figures["overall"]
    # 8 clean approved + 3 flagged rejected agree; 2 + 1 + the reversed one do not.
    assert (overall["agree"], overall["n"], overall["share"]) == (11, 15, 0.7333)
    assert overall["low"] < 0.7333 < overall["high"]
    assert (round(overall["low"], 2), round(overall["high"], 2)) == (0.48, 0.89)
    assert (figures["clean"]["agree"], figures["clean"]["n"]) == (8, 10)
    rows = {row["name"]: row for row in figures["checks"]}
    assert (rows["repetitive"]["agree"], rows["repetitive"]["n"]) == (3, 4)
    assert rows["repetitive"]["action"] == "flag"
    assert (rows["cut_off"]["agree"], rows["cut_off"]["n"]) == (0, 1)
    assert rows["cut_off"]["note"] == "only the ones an admin reversed"
    assert (rows["not_story"]["n"], rows["not_story"]["share"]) == (0, None)
    assert (figures["automatic_rejections"], figures["reversed"]) == (2, 1)


@pytest.mark.django_db
def test_no_decisions_yet_says_so(client, make_user):
    client.force_login(make_user("rev", "Reviewer"))
    page = client.get(reverse("curation:story_agreement")).content.decode()
    assert "No story has been decided by people yet" in page


def test_the_page_and_the_disagreement_filter(decided, client, make_user):
    client.force_login(make_user("rev", "Reviewer"))
    page = client.get(reverse("curation:story_agreement")).content.decode()
    assert "73% (11)" in page and "48–89%" in page
    assert "?disagree=gates" in page and "?disagree=repetitive" in page
    browser = client.get(reverse("curation:story_browser"), {"disagree": "gates"})
    shown = {story.pk for story in browser.context["stories"]}
    expected = {s.pk for group in decided.values() for s in group}
    assert shown == expected and len(shown) == 4
    repetitive = client.get(reverse("curation:story_browser"), {"disagree": "repetitive"})
    assert [s.pk for s in repetitive.context["stories"]] == [decided["flag_approved"][0].pk]
    assert (
        client.get(reverse("curation:story_browser"), {"disagree": "nonsense"}).status_code == 400
    )
    assert Story.objects.count() == 18
