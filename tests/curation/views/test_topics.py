import re

import pytest

from curation.models import Topic
from tests.conftest import HX
from tests.factories import TopicFactory


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


@pytest.mark.django_db
def test_a_rule_over_the_topic_filter_approves_every_match_after_a_confirmation(editor_client):
    matching = [TopicFactory(text=f"A lighthouse keeper's secret {n}") for n in range(3)]
    other = TopicFactory(text="A baker's first loaf")
    url = "/topics/bulk/?status=pending&q=lighthouse"
    page = editor_client.get(url + "&decision=approve")
    assert page.status_code == 200 and b'id="bulk-count">3<' in page.content
    assert b"A baker" not in page.content
    # unconfirmed, or confirmed for a count the filter no longer matches: nothing changes
    editor_client.post(url, {"decision": "approve", "expected": 3})
    editor_client.post(url, {"decision": "approve", "expected": 4, "confirm": "on"})
    assert not Topic.objects.filter(status="approved").exists()
    response = editor_client.post(url, {"decision": "approve", "expected": 3, "confirm": "on"})
    assert response.status_code == 302 and response["Location"].endswith("?" + url.split("?")[1])
    assert set(Topic.objects.filter(status="approved")) == set(matching)
    other.refresh_from_db()
    assert other.status == "pending"
