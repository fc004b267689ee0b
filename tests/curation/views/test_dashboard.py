import re

import pytest
from django.utils import timezone

from curation.services.reviews import review_submit
from tests.factories import StoryFactory, review_data


@pytest.mark.django_db
def test_dashboard_shows_counts_agreement_and_reviewers(make_user, admin_client):
    r1, r2 = make_user("r1", "Reviewer"), make_user("r2", "Reviewer")
    for n in range(6):
        story = StoryFactory()
        review_submit(
            story_id=story.pk, reviewer=r1, data={**review_data(coherence=4), "overall": 1 + n % 5}
        )
        review_submit(
            story_id=story.pk, reviewer=r2, data={**review_data(coherence=4), "overall": 1 + n % 5}
        )
    response = admin_client.get("/")
    assert response.context["agreement"]["overall"] == {"alpha": 1.0, "stories": 6}
    assert response.context["agreement"]["stories"] == 6
    assert {row["reviewer"]: row["n"] for row in response.context["per_reviewer"]} == {
        "r1": 6,
        "r2": 6,
    }
    assert response.context["per_model"][0]["model"] == "bundled-student"
    # Reviews per day: thirty dated bars, today's counted (12); the axes have titles
    body = response.content.decode()
    per_day = body[body.index('aria-label="Reviews per day') :]
    per_day = per_day[: per_day.index("</svg>")]
    today = timezone.localdate().strftime("%b %-d")
    assert per_day.count("<rect ") == 30 and f"{today}: 12</title>" in per_day
    words = re.findall(r"<text[^>]*>([^<]*)</text>", per_day)
    assert {"Day", "Reviews", today, "0"} <= set(words)
    scores = body[body.index('aria-label="Reviews by overall score"') :]
    words = re.findall(r"<text[^>]*>([^<]*)</text>", scores[: scores.index("</svg>")])
    assert {"Overall score", "Reviews", "1", "5"} <= set(words)


@pytest.mark.django_db
def test_agreement_per_axis_counts_only_the_reviews_that_rated_it(make_user, admin_client):
    from curation.models import Review

    r1, r2 = make_user("r1", "Reviewer"), make_user("r2", "Reviewer")
    for n in range(6):
        story = StoryFactory()
        # both rate overall and coherence (in agreement); only r1 rates creativity
        common = {"overall": 1 + n % 5, "coherence": 1 + n % 5, "brief": None, "characters": None}
        review_submit(
            story_id=story.pk,
            reviewer=r1,
            data={**review_data(), **common, "creativity": 1 + (n * 2) % 5},
        )
        review_submit(
            story_id=story.pk, reviewer=r2, data={**review_data(), **common, "creativity": None}
        )
    assert Review.objects.filter(creativity__isnull=True).count() == 6
    agreement = admin_client.get("/").context["agreement"]
    assert agreement["coherence"] == {"alpha": 1.0, "stories": 6}
    assert agreement["creativity"] == {"alpha": None, "stories": 0}
    assert agreement["brief"] == {"alpha": None, "stories": 0}
