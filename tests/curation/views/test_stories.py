import pytest

from curation.models import Story
from curation.services.reviews import review_submit
from tests.factories import StoryFactory, TopicFactory, review_data

HX = {"HTTP_HX_REQUEST": "true"}


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '<a href="javascript:alert(3)">click</a>',
    '<div hx-get="/logout/" hx-trigger="load">x</div>',
    "[link](javascript:alert(4))",
]


def assert_inert(body: str, shown: bool = True):
    for needle in ("<script>alert", "<img src=x", 'href="javascript:', "<div hx-get"):
        assert needle not in body, needle
    if shown:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.django_db
def test_xss_corpus_renders_inert_on_queue_browser_detail_and_dashboard(make_user, admin_client):
    reviewer = make_user("r1", "Reviewer")
    for text in XSS:
        topic = TopicFactory(text="Topic " + XSS[0] + text)
        story = StoryFactory(topic=topic, text=XSS[0] + "\n\n" + text)
        review_submit(
            story_id=story.pk,
            reviewer=reviewer,
            data={
                **review_data(coherence=4),
                "comment": XSS[0] + text,
                "edited_text": text + XSS[0],
            },
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
    review_submit(story_id=good.pk, reviewer=r1, data=review_data(coherence=4))

    def ids(query):
        return [s.pk for s in reviewer_client.get("/stories/?" + query).context["stories"]]

    assert ids("check=cut_off") == [cut.pk]
    assert ids("check=paragraphs") == [cut.pk]
    assert ids("min_score=4.5") == [good.pk]
    assert ids("reviewer=r1") == [good.pk]
    assert ids("sort=oldest") == [good.pk, cut.pk]


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
def test_a_rule_over_the_filter_rejects_every_matching_story_after_a_confirmation(admin_client):
    from curation.models import Adjudication

    cut = [StoryFactory(generation_job_id=12, cut_off=True) for _ in range(3)]
    StoryFactory(generation_job_id=12)  # not cut off
    StoryFactory(generation_job_id=13, cut_off=True)  # another job
    url = "/stories/bulk/?job=12&check=cut_off"
    page = admin_client.get(url + "&decision=reject")
    assert page.status_code == 200 and b'id="bulk-count">3<' in page.content
    # without the confirmation box nothing changes
    response = admin_client.post(url, {"decision": "reject", "expected": 3, "reason": "cut"})
    assert response.status_code == 200 and Adjudication.objects.count() == 0
    # a count that moved since the page was shown is refused too
    response = admin_client.post(
        url, {"decision": "reject", "expected": 2, "reason": "cut", "confirm": "on"}
    )
    assert Adjudication.objects.count() == 0
    response = admin_client.post(
        url, {"decision": "reject", "expected": 3, "reason": "cut off in job 12", "confirm": "on"}
    )
    assert response.status_code == 302
    assert sorted(Story.objects.filter(status="rejected").values_list("pk", flat=True)) == sorted(
        s.pk for s in cut
    )
    assert set(Adjudication.objects.values_list("reason", flat=True)) == {"cut off in job 12"}


@pytest.mark.django_db
def test_reviewers_cannot_run_rules_over_stories(reviewer_client):
    assert reviewer_client.get("/stories/bulk/?decision=reject").status_code == 403


@pytest.mark.django_db
def test_adjudication_has_no_default_and_save_and_next_walks_the_queue(admin_client):
    first, second = (StoryFactory(status="adjudication") for _ in range(2))
    page = admin_client.get(f"/adjudication/{first.pk}/")
    assert b"checked" not in page.content.split(b'id="adjudicate-form"')[1].split(b"</form>")[0]
    response = admin_client.post(
        f"/adjudication/{first.pk}/", {"decision": "approve", "reason": "Good enough"}
    )
    assert response["Location"] == f"/adjudication/{second.pk}/"
    response = admin_client.post(
        f"/adjudication/{second.pk}/", {"decision": "reject", "reason": "Off topic"}
    )
    assert response["Location"] == "/adjudication/"
    assert list(Story.objects.order_by("pk").values_list("status", flat=True)) == [
        "approved",
        "rejected",
    ]
    # no decision given: refused, nothing recorded
    third = StoryFactory(status="adjudication")
    response = admin_client.post(f"/adjudication/{third.pk}/", {"reason": "x"})
    assert response.status_code == 400
    third.refresh_from_db()
    assert third.status == "adjudication"


@pytest.mark.django_db
def test_an_edit_is_shown_side_by_side_with_words_marked(admin_client, make_user):
    from tests.factories import ReviewFactory

    story = StoryFactory(text="The old fox slept.\n\nIt woke at noon.")
    ReviewFactory(
        story=story,
        reviewer=make_user("r1", "Reviewer"),
        edited_text="The young fox slept.\n\nIt woke at <b>noon</b>.",
    )
    body = admin_client.get(story.get_absolute_url()).content.decode()
    assert "<del>old</del>" in body and "<ins>young</ins>" in body
    assert "&lt;b&gt;noon&lt;/b&gt;" in body and "<b>noon" not in body


@pytest.mark.django_db
def test_the_review_card_shows_every_rubric_axis_from_the_model(make_user, editor_client):
    from curation.models import Review
    from curation.services.reviews import review_submit
    from tests.factories import StoryFactory, review_data

    story = StoryFactory()
    scores = dict(zip(Review.RUBRIC, (2, 3, 4, 5), strict=True))
    review_submit(
        story_id=story.pk, reviewer=make_user("r", "Reviewer"), data=review_data(4, **scores)
    )
    page = editor_client.get(story.get_absolute_url()).content.decode()
    assert ", ".join(f"{axis} {score}" for axis, score in scores.items()) in page


@pytest.mark.django_db
def test_long_lists_count_up_to_a_cap_and_still_reach_every_page(settings, reviewer_client):
    settings.STORYAPP_COUNT_CAP = 5
    settings.STORYAPP_PAGE_SIZE = 2
    topic = TopicFactory()
    stories = [StoryFactory(topic=topic, text=f"Story number {n}.\n\nThe end.") for n in range(9)]
    body = reviewer_client.get("/stories/").content.decode()
    assert "Page 1 · more than 5 stories" in body
    assert 'rel="next"' in body and 'rel="prev"' not in body
    # Page 5 lies past the counted rows: it shows the last story and no next page.
    response = reviewer_client.get("/stories/?page=5")
    page = response.context["page_obj"]
    assert [s.pk for s in page.object_list] == [stories[0].pk]
    assert not page.has_next() and page.has_previous()
    assert (page.start_index(), page.end_index()) == (9, 9)
    assert reviewer_client.get("/stories/?page=4").context["page_obj"].has_next()
    # The review queue says "more than" past the cap, the exact count below it.
    assert "More than 5 stories waiting for you" in reviewer_client.get("/review/").content.decode()
    settings.STORYAPP_COUNT_CAP = 50
    body = reviewer_client.get("/stories/").content.decode()
    assert "Page 1 of 5 · 9 stories" in body
    assert "9 stories waiting for you" in reviewer_client.get("/review/").content.decode()


@pytest.mark.django_db
def test_the_story_browser_reads_a_fixed_number_of_queries_whatever_the_rows(reviewer_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            body = reviewer_client.get("/stories/?sort=score").content.decode()
        assert "No story matches" not in body
        return len(captured)

    topic = TopicFactory()
    StoryFactory(topic=topic, text="One.\n\nTwo.", auto_edited_text="One.\n\nTwo again.")
    few = queries_for_page()
    for n in range(8):  # rows of other topics and themes, some repaired or near-duplicates
        first = StoryFactory(text=f"Story {n}.\n\nThe end.", auto_edited_text="x\n\ny")
        StoryFactory(topic=first.topic, text=f"Copy {n}.\n\nThe end.", near_duplicate_of=first)
    assert queries_for_page() == few  # no column read row by row (the list reads .only())
    body = reviewer_client.get("/stories/").content.decode()
    assert body.count('class="story-snippet"') == 17
    assert "near-duplicate" in body and "repaired from" in body
