"""A new check is one registration (curation.checks.check_register): stories stored from then
on and evaluation samples carry its result, with no new column."""

import pytest

from curation.checks import EXTRA_CHECKS, check_register
from curation.services.stories import story_add_generated
from tests.factories import TopicFactory
from training.models import EvaluationSample
from training.services.evaluation import evaluation_create
from training.services.runs import evaluation_run


@pytest.fixture
def exclamations():
    check_register("exclamations", lambda text, finish_reason: text.count("!"))
    yield
    EXTRA_CHECKS.pop("exclamations")


@pytest.mark.django_db
def test_a_toy_check_is_stored_on_stories_and_evaluation_samples(exclamations, models):
    weak, good = models
    topics = [TopicFactory(status="approved") for _ in range(2)]
    story = story_add_generated(
        topic_id=topics[0].pk,
        theme_id=topics[0].theme_id,
        sample_index=0,
        text="Wow! A fox!\n\nIn the end it went home.",
        provenance={"finish_reason": "stop"},
    )
    story.refresh_from_db()
    assert story.checks == {"exclamations": 2}
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    assert evaluation_run(evaluation_id=evaluation.pk).status == "done"
    samples = EvaluationSample.objects.filter(evaluation=evaluation)
    assert samples.count() == 4
    assert all(s.checks == {"exclamations": s.text.count("!")} for s in samples)
