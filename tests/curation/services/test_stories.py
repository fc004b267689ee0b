import pytest

from curation.services import stories
from tests.factories import StoryFactory

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


ENDED_IN_THREE = GOOD.replace(", and the", ".\n\nThe")


@pytest.mark.django_db
def test_a_story_that_ended_on_its_own_in_three_paragraphs_is_repaired_beside_its_original():
    story = add(ENDED_IN_THREE)
    assert story.text == ENDED_IN_THREE  # the original never changes
    assert story.judged_text == story.auto_edited_text
    # Re-paragraphed into two: every word kept, the ending included.
    assert story.judged_text.split() == ENDED_IN_THREE.split()
    assert story.judged_text.endswith("The fishermen came home safe.")
    assert (story.original_paragraph_count, story.paragraph_count) == (3, 2)
    assert (story.status, story.passed_as_written) == ("pending", False)


@pytest.mark.django_db
def test_a_story_that_ran_into_the_token_limit_is_never_repaired_into_a_pass():
    story = add(LOOPING, finish_reason="length")
    assert story.auto_edited_text == "" and story.paragraph_count == 3
    assert (story.status, story.auto_rejected, story.cut_off) == ("rejected", True, True)
    # Its first two paragraphs were complete: the two were once kept and passed.
    # Stopped by the model mid-sentence: no ending to keep, no repair either.
    stopped = add(LOOPING, finish_reason="stop", sample_index=1)
    assert (stopped.auto_rejected, stopped.auto_edited_text) == (True, "")


@pytest.mark.django_db
def test_a_story_that_passes_as_written_says_so():
    story = add(GOOD)
    assert (story.status, story.passed_as_written, story.auto_edited_text) == ("pending", True, "")


@pytest.mark.django_db
def test_the_gate_policy_is_a_setting(settings):
    settings.STORYAPP_GATES = "paragraphs=flag,cut_off=off"
    settings.STORYAPP_GATE_REPAIR = False
    story = add(ENDED_IN_THREE)
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


LIGHTHOUSE = (
    "Mara kept the lighthouse on the northern rock, and every night she climbed the hundred "
    "steps to trim the wick and polish the great lens until it shone like a second moon. The "
    "fishermen of the bay knew her light the way they knew their own mothers' voices, and "
    "they steered by it through fog and sleet without a second thought.\n\n"
    "When the winter storm broke the glass and the wind tore at the lamp, Mara wrapped "
    "herself around the flame and held it alive with her own body until the dawn. The boats "
    "came home one by one, and the village carried her down the steps as if she were the "
    "light itself."
)
# A few words changed: the same story, lightly reworded.
REWORDED = (
    LIGHTHOUSE.replace("northern rock", "eastern rock")
    .replace("sleet", "rain")
    .replace("one by one", "two by two")
)
UNRELATED = (
    "The clockmaker's apprentice found a tiny door behind the pendulum of the oldest clock "
    "in the shop, and through it a staircase of brass gears that turned as she stepped. At "
    "the bottom a city of springs hummed, its people made of cogs and patience.\n\n"
    "She stayed until the hour struck, learned how they wound their sun each morning, and "
    "came back up with grease on her hands and a key in her pocket that opened nothing in "
    "the shop, and everything in her dreams."
)


@pytest.mark.django_db
def test_near_duplicates_are_found_across_themes_and_reworded_and_unrelated_ones_are_not():
    from tests.factories import TopicFactory

    first = add(LIGHTHOUSE, topic=TopicFactory())
    elsewhere = TopicFactory()  # another theme
    assert elsewhere.theme_id != first.topic.theme_id
    same = add(LIGHTHOUSE, topic=elsewhere)
    reworded = add(REWORDED, topic=TopicFactory())
    unrelated = add(UNRELATED, topic=TopicFactory())
    assert first.near_duplicate_of_id is None
    assert same.near_duplicate_of_id == first.pk
    assert reworded.near_duplicate_of_id == first.pk  # the oldest of the two it repeats
    assert unrelated.near_duplicate_of_id is None
    assert same.status == "pending"  # the default gate flags, it does not reject
    from curation.near_duplicates import shingles, similarity

    assert 70 <= similarity(shingles(LIGHTHOUSE), shingles(REWORDED)) < 100
    assert similarity(shingles(LIGHTHOUSE), shingles(UNRELATED)) < 5


@pytest.mark.django_db
def test_the_backlog_indexes_stories_made_elsewhere_and_the_gate_can_reject(settings):
    from curation.models import Adjudication, StoryBand

    settings.STORYAPP_GATES = "near_duplicate=reject"
    first = StoryFactory(text=LIGHTHOUSE, status="approved")
    copy = StoryFactory(text=REWORDED)
    other = StoryFactory(text=UNRELATED)
    assert not StoryBand.objects.exists()  # made outside the pipeline: not indexed yet
    assert stories.near_duplicates_backlog(batch=2) == {
        "indexed": 3,
        "flagged": 1,
        "rejected": 1,
    }
    copy.refresh_from_db()
    first.refresh_from_db()
    other.refresh_from_db()
    assert copy.near_duplicate_of_id == first.pk and (copy.status, copy.auto_rejected) == (
        "rejected",
        True,
    )
    assert Adjudication.objects.get(story=copy).reason == "automatic checks: near-duplicate"
    assert first.status == "approved" and other.near_duplicate_of_id is None
    assert StoryBand.objects.filter(story=first).count() == 16
    # once indexed, a new story finds them; running again changes nothing
    assert add(LIGHTHOUSE).near_duplicate_of_id == first.pk
    assert stories.near_duplicates_backlog() == {"indexed": 0, "flagged": 0, "rejected": 0}
