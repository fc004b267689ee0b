import pytest
from django.core.exceptions import ValidationError

from curation.models import Topic
from curation.services import topics
from tests.factories import TopicFactory


@pytest.mark.django_db
def test_topic_triage_duplicate_of_the_flagged_topic(make_user):
    editor = make_user("ed", "Editor")
    original = TopicFactory(text="A dragon who guards a crystal in the forest")
    copy = TopicFactory(text="A dragon guarding the crystal of the forest")
    topics.topics_flag_similar([copy])
    copy.save()
    assert copy.similar_to_id == original.pk and copy.similarity >= 85
    topics.topic_decide(topic_id=copy.pk, decision="duplicate", actor=editor)
    copy.refresh_from_db()
    assert (copy.status, copy.duplicate_of_id) == ("rejected", original.pk)
    lone = TopicFactory(text="A completely unrelated tale of the sea")
    with pytest.raises(ValidationError) as excinfo:
        topics.topic_decide(topic_id=lone.pk, decision="duplicate", actor=editor)
    assert excinfo.value.code == "duplicate_of_missing"
    assert Topic.objects.get(pk=lone.pk).status == "pending"


@pytest.mark.django_db
def test_near_duplicates_inside_one_reply_are_flagged():
    from tests.factories import ThemeFactory

    theme = ThemeFactory(status="approved")
    stored = topics.topics_add_generated(
        theme_id=theme.pk,
        texts=["The Memory of a Dreamer who sails", "The Memory of a Dream who sails", "A fox"],
        provenance={"generation_job_id": 7},
    )
    assert stored == 3
    first, second, third = Topic.objects.order_by("pk")
    assert second.similar_to_id == first.pk and second.similarity >= 85
    assert first.similar_to_id is None and third.similar_to_id is None
