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
