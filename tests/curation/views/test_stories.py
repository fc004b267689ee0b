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
