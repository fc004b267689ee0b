import pytest
from django.core.exceptions import ValidationError

from generation.backends import GenerationResult
from tests.factories import ModelProfileFactory, TopicFactory
from training.models import ComparisonPair, EvaluationSample
from training.services.evaluation import evaluation_create, held_out_topics
from training.services.runs import evaluation_run

GOOD = "Once upon a time a fox lived here.\n\nIn the end the fox went home, happy."
CUT = "The fox began to walk and then the"
# Ended on its own in four paragraphs: fails the gates as written, kept after the repair.
RAMBLING = (
    "Once upon a time a fox lived here.\n\nShe was hungry all winter.\n\n"
    "In the end the fox found the hens.\n\nShe went home, happy."
)
# Two good paragraphs, then a loop into the token limit: never repaired into a pass.
LOOPING = GOOD + "\n\nThe end. The end. The end.\n\nThe end and the"


class PerModel:
    """Each model's backend: the weak one writes cut-off stories, the good one good ones."""

    def __init__(self, profile):
        self.profile = profile

    def generate(self, requests, on_result=None):
        text, reason = {
            "good": (GOOD, "stop"),
            "rambling": (RAMBLING, "stop"),
            "looping": (LOOPING, "length"),
        }.get(self.profile.name, (CUT, "length"))
        results = []
        for index in range(len(requests)):
            result = GenerationResult(text=text, finish_reason=reason, completion_tokens=9)
            results.append(result)
            if on_result:
                on_result(index, result)
        self.seen_seeds = [r.seed for r in requests]
        return results


@pytest.mark.django_db
def test_an_evaluation_judges_every_story_and_reports_per_model(models):
    weak, good = models
    topics = [TopicFactory(status="approved") for _ in range(10)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    evaluation = evaluation_run(evaluation_id=evaluation.pk)
    assert evaluation.status == "done"
    results = evaluation.results
    assert (results["good"]["passed"], results["good"]["n"]) == (10, 10)
    assert (results["weak"]["passed"], results["weak"]["cut_off_share"]) == (0, 1.0)
    assert results["good"]["pass_low"] > results["weak"]["pass_high"]  # non-overlapping
    assert results["good"]["once_upon_a_time_share"] == 1.0
    assert results["good"]["mean_paragraphs"] == 2.0
    assert 0 < results["good"]["distinct_2"] < 1
    # same seeds for both models, one pair per topic for the blind comparison
    seeds = {
        model: list(
            EvaluationSample.objects.filter(model__name=model).values_list("seed", flat=True)
        )
        for model in ("weak", "good")
    }
    assert seeds["weak"] == seeds["good"] == [42 + i for i in range(10)]
    assert ComparisonPair.objects.count() == 10
    # a second delivery does nothing
    assert evaluation_run(evaluation_id=evaluation.pk) is None


@pytest.mark.django_db
def test_the_pass_rate_judges_what_the_model_wrote_and_the_repair_counts_apart(models):
    weak, good = models
    rambling = ModelProfileFactory(name="rambling", role="student")
    looping = ModelProfileFactory(name="looping", role="student")
    topics = [TopicFactory(status="approved") for _ in range(4)]
    evaluation = evaluation_create(
        profiles=[weak, good, rambling, looping],
        topic_ids=[t.pk for t in topics],
        enqueue=False,
    )
    results = evaluation_run(evaluation_id=evaluation.pk).results
    assert (results["rambling"]["passed"], results["rambling"]["usable"]) == (0, 4)
    assert results["rambling"]["repaired_share"] == 1.0
    assert results["rambling"]["mean_paragraphs"] == 4.0  # as written, not as repaired
    # At the token limit: its first two paragraphs are complete, and still no pass.
    assert (results["looping"]["passed"], results["looping"]["usable"]) == (0, 0)
    assert results["looping"]["repaired_share"] == 0.0
    assert (results["good"]["passed"], results["good"]["usable"]) == (4, 4)
    assert (results["weak"]["passed"], results["weak"]["usable"]) == (0, 0)
    sample = EvaluationSample.objects.get(model=rambling, topic=topics[0])
    assert sample.text == RAMBLING and sample.judged_text.split() == RAMBLING.split()
    assert sample.judged_text.count("\n\n") == 1 and sample.judged_text.endswith("happy.")


@pytest.mark.django_db
def test_held_out_topics_have_no_story_in_the_train_split(release):
    import json

    from curation.exports.layout import export_folder
    from curation.models import Story

    fresh = TopicFactory(status="approved")
    manifest = json.loads((export_folder(release) / "manifest.json").read_text())
    trained = set(
        Story.objects.filter(pk__in=manifest["story_ids"]["train"]).values_list("topic", flat=True)
    )
    held = held_out_topics(release)
    assert fresh.pk in held and not trained & set(held)


@pytest.mark.django_db
def test_an_evaluation_needs_two_models_and_topics(models):
    weak, _ = models
    with pytest.raises(ValidationError) as excinfo:
        evaluation_create(profiles=[weak], topic_ids=[1], enqueue=False)
    assert excinfo.value.code == "too_few_models"


@pytest.mark.django_db
def test_an_evaluation_lists_its_stories_as_written_with_verdicts(
    models, admin_client, editor_client, reviewer_client
):
    weak, good = models
    topics = [TopicFactory(status="approved", text=f"Fox {n} <i>") for n in range(3)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    evaluation_run(evaluation_id=evaluation.pk)
    url = f"/evaluations/{evaluation.pk}/stories/"
    assert url in admin_client.get(f"/evaluations/{evaluation.pk}/").content.decode()
    body = admin_client.get(url).content.decode()
    assert body.count('class="card story-text sample"') == 6
    assert body.count("passed as written") == 3 and body.count("failed as written") == 3
    assert "cut off" in body and "Fox 0 &lt;i&gt;" in body and f"Topic #{topics[0].pk}" in body
    assert GOOD.split("\n\n")[0] in body
    failed = admin_client.get(url, {"verdict": "failed"}).content.decode()
    assert failed.count('class="card story-text sample"') == 3 and "passed as written" not in failed
    only_good = admin_client.get(url, {"model": "good"}).content.decode()
    assert only_good.count("passed as written") == 3 and "failed as written" not in only_good
    assert editor_client.get(url).status_code == 200
    unknown = admin_client.get(url, {"model": "nobody\x00"})
    assert unknown.status_code == 400 and b"No model of this evaluation" in unknown.content
    # blind means blind: a reviewer judges these stories in /compare/ and never sees them here
    assert reviewer_client.get(url).status_code == 403
