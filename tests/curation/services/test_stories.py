import pytest

from curation.services import stories
from tests.factories import StoryFactory


@pytest.mark.django_db
def test_story_checks_flag_a_near_duplicate_in_the_same_theme():
    first = StoryFactory(text="The fox ran to the river and found the moon in the water.")
    fields = stories.story_check_fields(
        text="The fox ran to the river and found the moon in the water!",
        finish_reason="stop",
        theme_id=first.topic.theme_id,
    )
    assert fields["near_duplicate_of_id"] == first.pk


GOOD = (
    "Mara kept the lighthouse on the northern rock, and every night she listened for the ships."
    "\n\nWhen the storm came she lit every lamp she had, and the fishermen came home safe."
)
LOOPING = GOOD + "\n\nAnd then the night came. And then the night came. And then the night came"


def add(text: str, finish_reason: str = "stop", **kwargs):
    from tests.factories import TopicFactory

    topic = kwargs.pop("topic", None) or TopicFactory()
    return stories.story_add_generated(
        topic_id=topic.pk,
        theme_id=topic.theme_id,
        sample_index=kwargs.pop("sample_index", 0),
        text=text,
        provenance={"finish_reason": finish_reason, "generation_job_id": 1, **kwargs},
    )


@pytest.mark.django_db
def test_a_story_that_fails_a_reject_gate_is_rejected_by_the_checks_with_the_reason():
    from curation.models import Adjudication

    story = add(GOOD.rsplit(" ", 3)[0], finish_reason="length")
    assert (story.status, story.auto_rejected) == ("rejected", True)
    decision = Adjudication.objects.get(story=story)
    assert decision.admin is None and decision.reason == "automatic checks: cut off"
    ok = add(GOOD)
    assert (ok.status, ok.auto_rejected) == ("pending", False)


@pytest.mark.django_db
def test_a_story_past_two_complete_paragraphs_is_trimmed_beside_its_original():
    story = add(LOOPING, finish_reason="length")
    assert story.text == LOOPING  # the original never changes
    assert story.auto_edited_text == GOOD and story.judged_text == GOOD
    assert (story.original_paragraph_count, story.paragraph_count) == (3, 2)
    assert (story.cut_off, story.status) == (False, "pending")


@pytest.mark.django_db
def test_no_trim_when_the_first_two_paragraphs_are_not_complete():
    text = "The first paragraph has no end\n\nThe second one does.\n\nA third."
    story = add(text)
    assert story.auto_edited_text == "" and story.paragraph_count == 3
    assert story.status == "rejected" and story.auto_rejected


@pytest.mark.django_db
def test_the_gate_policy_is_a_setting(settings):
    settings.STORYAPP_GATES = "paragraphs=flag,cut_off=off"
    settings.STORYAPP_GATE_TRIM = False
    story = add(LOOPING, finish_reason="length")
    assert story.auto_edited_text == "" and story.status == "pending"
    from curation.gates import GatePolicy

    assert GatePolicy.current().flags(story) == ["paragraphs"]


@pytest.mark.django_db
def test_an_admin_reverses_the_checks(make_user):
    from curation.services.reviews import story_adjudicate

    story = add("A story with no end", finish_reason="length")
    assert story.auto_rejected
    story_adjudicate(
        story_id=story.pk, admin=make_user("boss", "Admin"), decision="approve", reason="Fine."
    )
    story.refresh_from_db()
    assert (story.status, story.auto_rejected) == ("approved", False)


@pytest.mark.django_db
def test_a_redelivered_story_is_stored_once():
    from tests.factories import TopicFactory

    topic = TopicFactory()
    assert add(GOOD, topic=topic) is not None
    assert add(GOOD, topic=topic) is None


@pytest.mark.django_db
def test_only_stories_of_wanted_topics_and_themes_reach_reviewers(make_user):
    from curation.services.reviews import story_next_for
    from tests.factories import ThemeFactory, TopicFactory

    reviewer = make_user("rev", "Reviewer")
    rejected_topic = StoryFactory(topic=TopicFactory(status="rejected"))
    pending_theme = StoryFactory(topic=TopicFactory(theme=ThemeFactory(status="pending")))
    wanted = StoryFactory()
    offered = story_next_for(user=reviewer)
    assert offered.pk == wanted.pk
    assert story_next_for(user=reviewer, skip=[wanted.pk]) is None
    assert {rejected_topic.pk, pending_theme.pk}.isdisjoint({offered.pk})
