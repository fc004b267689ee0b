import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from curation.approval import Policy
from curation.models import Review, Story
from curation.services.reviews import review_submit
from tests.factories import StoryFactory, TopicFactory

HX = {"HTTP_HX_REQUEST": "true"}
XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '<a href="javascript:alert(3)">click</a>',
    '<div hx-get="/logout/" hx-trigger="load">x</div>',
    "[link](javascript:alert(4))",
]
FORM = {
    "overall": 5,
    "brief": 5,
    "coherence": 4,
    "creativity": 5,
    "characters": 5,
    "decision": "approve",
}


def assert_inert(body: str, shown: bool = True):
    for needle in ("<script>alert", "<img src=x", 'href="javascript:', "<div hx-get"):
        assert needle not in body, needle
    if shown:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.django_db
def test_review_flow_over_htmx_loads_the_next_story(reviewer_client):
    first, second = StoryFactory(), StoryFactory()
    page = reviewer_client.get("/review/")
    shown = page.context["story"]
    assert shown.pk == first.pk
    response = reviewer_client.post(f"/review/{shown.pk}/", FORM, **HX)
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
    review_submit(story_id=story.pk, reviewer=reviewer, data=FORM)
    response = reviewer_client.post(f"/review/{story.pk}/", FORM, **HX)
    assert b"already reviewed this story" in response.content
    assert Review.objects.count() == 1


@pytest.mark.django_db
def test_xss_corpus_renders_inert_on_queue_browser_detail_and_dashboard(make_user, admin_client):
    reviewer = make_user("r1", "Reviewer")
    for text in XSS:
        topic = TopicFactory(text="Topic " + XSS[0] + text)
        story = StoryFactory(topic=topic, text=XSS[0] + "\n\n" + text)
        review_submit(
            story_id=story.pk,
            reviewer=reviewer,
            data={**FORM, "comment": XSS[0] + text, "edited_text": text + XSS[0]},
        )
    story = Story.objects.first()
    for url in ("/review/", "/stories/", story.get_absolute_url(), "/topics/"):
        assert_inert(admin_client.get(url).content.decode())
    # The dashboard shows no story text, only figures; it must stay inert all the same.
    assert_inert(admin_client.get("/").content.decode(), shown=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "sort=reviews__reviewer__password",
        "sort=-created_at",
        "status=secret",
        "reviewer__password=x",
        "check=password",
    ],
)
def test_story_browser_refuses_fields_outside_the_whitelist(reviewer_client, query):
    response = reviewer_client.get("/stories/?" + query)
    assert response.status_code == 400
    assert b"Invalid filter" in response.content


@pytest.mark.django_db
def test_story_browser_filters_by_check_score_and_reviewer(make_user, reviewer_client):
    good = StoryFactory()
    cut = StoryFactory(cut_off=True, paragraph_count=1)
    r1 = make_user("r1", "Reviewer")
    review_submit(story_id=good.pk, reviewer=r1, data=FORM)

    def ids(query):
        return [s.pk for s in reviewer_client.get("/stories/?" + query).context["stories"]]

    assert ids("check=cut_off") == [cut.pk]
    assert ids("check=paragraphs") == [cut.pk]
    assert ids("min_score=4.5") == [good.pk]
    assert ids("reviewer=r1") == [good.pk]
    assert ids("sort=oldest") == [good.pk, cut.pk]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_page_size(settings, make_user, admin_user):
    reviewers = [make_user(f"q{n}", "Reviewer") for n in range(3)]
    for n in range(60):
        story = StoryFactory()
        for reviewer in reviewers[: 1 + n % 2]:
            review_submit(story_id=story.pk, reviewer=reviewer, data=FORM)
    counts = {}
    for size in (5, 50):
        settings.STORYAPP_PAGE_SIZE = size
        from django.core.cache import cache

        cache.clear()
        Story.objects.update(reserved_by=None, reserved_until=None)
        admin_client = Client()
        admin_client.force_login(admin_user)
        counts[size] = (
            _count_queries(admin_client, "/stories/"),
            _count_queries(admin_client, "/stories/?check=cut_off&sort=score"),
            _count_queries(admin_client, "/"),
            _count_queries(admin_client, "/review/"),
            _count_queries(admin_client, "/adjudication/"),
        )
    assert counts[5] == counts[50]


@pytest.mark.django_db
def test_dashboard_shows_counts_agreement_and_reviewers(make_user, admin_client):
    r1, r2 = make_user("r1", "Reviewer"), make_user("r2", "Reviewer")
    for n in range(6):
        story = StoryFactory()
        review_submit(story_id=story.pk, reviewer=r1, data={**FORM, "overall": 1 + n % 5})
        review_submit(story_id=story.pk, reviewer=r2, data={**FORM, "overall": 1 + n % 5})
    response = admin_client.get("/")
    assert response.context["agreement"]["overall"] == 1.0
    assert response.context["agreement"]["stories"] == 6
    assert {row["reviewer"]: row["n"] for row in response.context["per_reviewer"]} == {
        "r1": 6,
        "r2": 6,
    }
    assert response.context["per_model"][0]["model"] == "bundled-student"
    assert b"<svg" in response.content


@pytest.mark.django_db
def test_admin_adjudicates_from_the_story_page(admin_client):
    story = StoryFactory(status="adjudication")
    response = admin_client.post(
        story.get_absolute_url(), {"decision": "approve", "reason": "Fine on balance"}
    )
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == "approved"


@pytest.mark.django_db
def test_reviewers_cannot_adjudicate(reviewer_client):
    story = StoryFactory(status="adjudication")
    assert reviewer_client.get("/adjudication/").status_code == 403
    response = reviewer_client.post(
        story.get_absolute_url(), {"decision": "approve", "reason": "x"}
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_topic_triage_keystroke_actions(editor_client):
    topic = TopicFactory()
    response = editor_client.post(
        f"/topics/{topic.pk}/decide/", {"decision": "approve", "status": "pending"}, **HX
    )
    assert response.status_code == 200
    topic.refresh_from_db()
    assert topic.status == "approved"
    assert re.search(rb'id="topic-panel"', response.content)


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
                    f"/review/{story.pk}/", {**FORM, "decision": decision, "overall": 3 + index % 3}
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
