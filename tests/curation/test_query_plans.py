"""The hot reads use an index on both databases: the review queue (next story and its count)
and the story browser (first page, each sort). On PostgreSQL the planner is told to avoid
sequential scans, so a scan of the stories table in the plan means no index could serve it
(on a tiny test table the planner would otherwise rightly prefer a scan)."""

import pytest
from django.db import connection
from django.utils import timezone

from curation import selectors
from curation.services.reviews import _reservable
from tests.factories import StoryFactory


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def assert_story_index(text: str) -> None:
    if connection.vendor == "postgresql":
        assert "Seq Scan on curation_story" not in text, text
        assert "Index" in text, text
    else:
        story_lines = [line for line in text.splitlines() if "curation_story" in line]
        assert story_lines, text
        for line in story_lines:
            assert "INDEX" in line or "PRIMARY KEY" in line, text


@pytest.mark.django_db(transaction=False)
def test_the_queue_and_the_browser_read_the_stories_through_an_index(make_user):
    user = make_user("r1", "Reviewer")
    for n in range(3):
        StoryFactory(text=f"Story {n}.\n\nThe end.")
    queue = _reservable(user, timezone.now()).order_by("review_count", "pk")
    assert_story_index(plan(queue.values_list("pk", flat=True)[:5]))
    remaining = (
        selectors.Story.objects.reviewable()
        .filter(status="pending", review_count__lt=3)
        .values("pk")[:1001]
    )
    assert_story_index(plan(remaining))
    for sort in selectors.STORY_SORTS:
        page = selectors.story_list(filters={"sort": sort}).select_related(None)
        assert_story_index(plan(page.values_list("pk", flat=True)[:51]))
    assert_story_index(
        plan(selectors.story_list(filters={"status": "approved"}).values_list("pk")[:51])
    )
