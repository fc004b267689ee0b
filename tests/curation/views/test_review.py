import threading

import pytest
from django.db import connection
from django.test import Client

from curation.approval import Policy
from curation.models import Review, Story
from curation.services.reviews import review_submit
from tests.conftest import HX
from tests.factories import StoryFactory, review_data


@pytest.mark.django_db
def test_review_flow_over_htmx_loads_the_next_story(reviewer_client):
    first, second = StoryFactory(), StoryFactory()
    page = reviewer_client.get("/review/")
    shown = page.context["story"]
    assert shown.pk == first.pk
    response = reviewer_client.post(f"/review/{shown.pk}/", review_data(coherence=4), **HX)
    assert response.status_code == 200
    assert b"Review of story #%d saved" % first.pk in response.content
    assert response.context["story"].pk == second.pk
    assert Review.objects.get().story_id == first.pk


@pytest.mark.django_db
def test_incomplete_review_is_a_400_with_a_message_and_nothing_saved(reviewer_client):
    story = StoryFactory()
    reviewer_client.get("/review/")
    response = reviewer_client.post(f"/review/{story.pk}/", {"overall": 5}, **HX)
    assert response.status_code == 400
    assert b"Give every score" in response.content
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_second_review_by_the_same_person_shows_the_reason(reviewer_client, reviewer):
    story = StoryFactory()
    review_submit(story_id=story.pk, reviewer=reviewer, data=review_data(coherence=4))
    response = reviewer_client.post(f"/review/{story.pk}/", review_data(coherence=4), **HX)
    assert b"already reviewed this story" in response.content
    assert Review.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_reviews_lose_nothing_and_statuses_follow_the_policy(make_user):
    stories = [StoryFactory() for _ in range(10)]
    users = [make_user(f"c{n}", "Reviewer") for n in range(20)]
    statuses, errors = [], []

    def work(user, index):
        client = Client()
        client.force_login(user)
        try:
            for offset in range(10):
                story = stories[(index + offset) % 10]
                decision = "reject" if (index + offset) % 3 == 0 else "approve"
                response = client.post(
                    f"/review/{story.pk}/",
                    {**review_data(coherence=4), "decision": decision, "overall": 3 + index % 3},
                )
                statuses.append(response.status_code)
        except Exception as exc:  # surfaced below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u, i)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert set(statuses) == {302}  # each post redirects; refusals are messages, not 500s
    policy = Policy.current()
    for story in Story.objects.all():
        rows = list(story.reviews.order_by("pk").values_list("decision", "overall"))
        # No more reviews than the overlap, never two by one reviewer, status = the policy.
        assert 1 <= len(rows) <= policy.overlap
        assert story.reviews.values("reviewer").distinct().count() == len(rows)
        assert story.review_count == len(rows)
        assert story.status == policy.status_for(rows)


@pytest.mark.django_db
def test_a_reviewer_amends_their_review_while_the_story_is_undecided(make_user):
    from django.test import Client

    from curation.models import Review
    from tests.factories import StoryFactory

    alice = make_user("alice", "Reviewer")
    client = Client()
    client.force_login(alice)
    story = StoryFactory()
    review_submit(story_id=story.pk, reviewer=alice, data=review_data(2, "reject"))
    page = client.get(story.get_absolute_url())
    assert b'id="amend-form"' in page.content
    response = client.post(
        f"/review/{story.pk}/amend/", {"overall": 5, "decision": "approve", "brief": ""}
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.overall, review.decision, review.brief) == (5, "approve", None)
    assert review.amended_at is not None
    story.refresh_from_db()
    assert story.mean_overall == 5.0
    # a second reviewer decides it: amending is over
    review_submit(story_id=story.pk, reviewer=make_user("bob", "Reviewer"), data=review_data(5))
    story.refresh_from_db()
    assert story.status == "approved"
    client.post(f"/review/{story.pk}/amend/", {"overall": 1, "decision": "reject"})
    assert Review.objects.get(reviewer=alice).overall == 5
    assert b'id="amend-form"' not in client.get(story.get_absolute_url()).content


@pytest.mark.django_db
def test_the_overall_key_sets_only_the_overall_score(reviewer_client):
    from curation.models import Review
    from tests.factories import StoryFactory

    story = StoryFactory()
    reviewer_client.get("/review/")
    response = reviewer_client.post(
        f"/review/{story.pk}/", {"overall": 4, "decision": "approve", "coherence": 2}
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.overall, review.coherence, review.brief, review.creativity) == (4, 2, None, None)


@pytest.mark.django_db
def test_an_amendment_that_changes_only_the_score_stores_no_edit(make_user, var_dir):
    """The story page's textarea sends the story back with CRLF line breaks: that is no edit.
    A real edit is stored normalised (LF, no trailing spaces) and a release carries no CR."""
    import json

    from curation.exports import layout
    from tests.curation.exports.support import MESSAGES, run_export

    alice = make_user("alice", "Reviewer")
    client = Client()
    client.force_login(alice)
    story = StoryFactory(
        text="The fox ran home.\n\nIn the end it slept, warm and safe.", prompt_messages=MESSAGES
    )
    review_submit(story_id=story.pk, reviewer=alice, data=review_data(3))
    as_sent = story.text.replace("\n", "\r\n") + "\r\n"
    response = client.post(f"/review/{story.pk}/amend/", {**review_data(4), "edited_text": as_sent})
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.overall, review.edited_text) == (4, "")
    # a real edit, typed in the textarea: kept, with LF line breaks
    typed = "The fox ran home.  \r\n\r\nIn the end it slept.\r\n"
    client.post(f"/review/{story.pk}/amend/", {**review_data(5), "edited_text": typed})
    review.refresh_from_db()
    assert review.edited_text == "The fox ran home.\n\nIn the end it slept."
    bob = make_user("bob", "Reviewer")
    review_submit(story_id=story.pk, reviewer=bob, data=review_data(5))
    story.refresh_from_db()
    assert story.status == "approved"
    export = run_export("no-cr", use_edits=True, val_fraction=0.0)
    written = (layout.export_folder(export) / "train.jsonl").read_bytes()
    assert b"\r" not in written and b"\\r" not in written
    assert json.loads(written)["messages"][-1]["content"] == review.edited_text
