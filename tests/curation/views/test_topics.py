import re

import pytest

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
