"""Two rounds of distillation on a tiny model: round 2's stories are written by round 1's
model, then released, fine-tuned and evaluated with round 1's options; the rounds page charts
both and the lineage links every step."""

import re

import pytest
from django.core.exceptions import ValidationError

from curation.exports.runner import export_run
from curation.models import Story
from generation.services.engine import job_work
from training.models import Round
from training.round_results import round_chains
from training.services import rounds
from training.services.evaluation import evaluation_create
from training.services.finetune import finetune_create
from training.services.runs import evaluation_run, finetune_run


def round_one_work(release, tiny_student, monkeypatch):
    """What round 1 is made of: a fine-tune ("tiny-r1") and its evaluation on 3 held-out
    topics (the evaluation's stories from test_evaluation.PerModel)."""
    from tests.training.test_evaluation import PerModel

    monkeypatch.setattr("training.services.runs.backend_for", PerModel)
    first = finetune_run(
        job_id=finetune_create(
            release=release, base=tiny_student, name="tiny-r1", max_length=64, enqueue=False
        ).pk
    )
    evaluation_run(
        evaluation_id=evaluation_create(
            profiles=[tiny_student, first.output_model],
            release=release,
            n_topics=3,
            enqueue=False,
        ).pk
    )
    return first


def two_rounds(release, tiny_student, monkeypatch):
    """Round 1 (a fine-tune and its evaluation), then round 2 step by step."""
    first = round_one_work(release, tiny_student, monkeypatch)
    round_1 = rounds.round_start(finetune=first)
    round_2 = rounds.round_next(round_=round_1, enqueue=False)
    with pytest.raises(ValidationError, match="stories job has finished"):
        rounds.round_release(round_=round_2)
    job_work(job_id=round_2.stories_job_id)
    # the reviewers approve the new stories (curation as usual)
    Story.objects.filter(generation_job_id=round_2.stories_job_id).update(status="approved")
    export_run(export_id=rounds.round_release(round_=round_2, enqueue=False).pk)
    round_2.refresh_from_db()
    finetune_run(job_id=rounds.round_finetune(round_=round_2, enqueue=False).pk)
    round_2.refresh_from_db()
    evaluation_run(evaluation_id=rounds.round_evaluate(round_=round_2, enqueue=False).pk)
    return round_1, Round.objects.get(pk=round_2.pk)


@pytest.mark.django_db
def test_two_rounds_chain_every_step_with_the_options_of_the_first(
    release, tiny_student, scripted, monkeypatch, admin_client
):
    round_1, round_2 = two_rounds(release, tiny_student, monkeypatch)
    model_1 = round_1.model
    job = round_2.stories_job
    # round 2's stories were written by round 1's model, over the approved topics
    assert job.model == model_1 and job.kind == "stories"
    assert Story.objects.filter(generation_job_id=job.pk).count() == job.items.count() > 0
    # the release keeps round 1's options and holds the new stories
    before, after = round_1.release, round_2.release
    assert (after.format, after.val_fraction, after.seed) == (
        before.format,
        before.val_fraction,
        before.seed,
    )
    assert after.name == f"{before.name}-r2" and after.train_count > before.train_count
    # the fine-tune: round 1's base and settings, on round 2's release
    assert (round_2.finetune.base, round_2.finetune.release) == (tiny_student, after)
    assert round_2.finetune.max_length == round_1.finetune.max_length
    assert round_2.model.name == "tiny-student-r2"
    # the evaluation: the base, round 1's model and round 2's, as many topics as before
    assert set(round_2.evaluation.profiles.all()) == {tiny_student, model_1, round_2.model}
    # measured on round 1's held-out topics, for which round 2 wrote no story
    held_out = round_1.evaluation.topic_ids
    assert round_2.evaluation.topic_ids == held_out and round_2.evaluation.release == after
    assert not job.items.filter(topic_id__in=held_out).exists()
    with pytest.raises(ValidationError, match="already"):
        rounds.round_evaluate(round_=round_2)

    [chain] = round_chains()
    assert [f["round"].number for f in chain] == [1, 2]
    assert chain[1]["passed"]["n"] == len(round_2.evaluation.topic_ids)
    assert chain[1]["perplexity"] > 1 and chain[1]["repaired"] is not None

    page = admin_client.get("/rounds/").content.decode()
    assert f'id="round-{round_1.pk}"' in page and f'id="round-{round_2.pk}"' in page
    chart = page[page.index('aria-label="Passed as written on held-out topics') :]
    words = re.findall(r"<text[^>]*>([^<]*)</text>", chart[: chart.index("</svg>")])
    assert {"base", "round 1", "round 2", "Model", "Passed as written (%)", "0", "100"} <= set(
        words
    )
    assert "Next round" in page  # from the last round's model
    lineage = admin_client.get(f"/lineage/models/{round_2.model.name}/").content.decode()
    assert f"/jobs/{job.pk}/" in lineage and f"/lineage/models/{model_1.name}/" in lineage
    assert round_2.evaluation.get_absolute_url() in lineage
    first_lineage = admin_client.get(f"/lineage/models/{model_1.name}/").content.decode()
    assert "It wrote the stories of round 2" in first_lineage


@pytest.mark.django_db
def test_a_round_starts_only_from_a_finished_fine_tune_and_steps_wait_for_each_other(
    release, tiny_student
):
    queued = finetune_create(release=release, base=tiny_student, name="q1", enqueue=False)
    with pytest.raises(ValidationError, match="finished"):
        rounds.round_start(finetune=queued)


@pytest.mark.django_db
def test_round_actions_refuse_bad_input_with_a_clear_answer(admin_client, reviewer_client):
    assert admin_client.post("/rounds/start/", {"finetune": "no\x00pe"}).status_code == 404
    assert admin_client.post("/rounds/start/", {"finetune": "missing"}).status_code == 404
    assert admin_client.post("/rounds/1/next/").status_code == 404  # no round 1
    assert reviewer_client.get("/rounds/").status_code == 403
    assert reviewer_client.post("/rounds/start/", {"finetune": "x"}).status_code == 403
