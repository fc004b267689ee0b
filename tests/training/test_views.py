import re

import pytest
from django.test import Client

from storyapp.charts import number
from training.services.finetune import finetune_create
from training.services.runs import finetune_run


@pytest.mark.django_db
def test_lineage_links_release_fine_tune_model_and_evaluations(
    release, tiny_student, admin_client, monkeypatch, make_user
):
    from tests.training.test_evaluation import PerModel
    from training.services.evaluation import evaluation_create
    from training.services.runs import evaluation_run

    job = finetune_run(
        job_id=finetune_create(
            release=release,
            base=tiny_student,
            name="round-2",
            epochs=1,
            max_length=64,
            enqueue=False,
        ).pk
    )
    tuned = job.output_model
    monkeypatch.setattr("training.services.runs.backend_for", PerModel)
    evaluation = evaluation_create(
        profiles=[tiny_student, tuned], release=release, n_topics=3, enqueue=False
    )
    evaluation_run(evaluation_id=evaluation.pk)
    page = admin_client.get(f"/lineage/models/{tuned.name}/").content.decode()
    for needle in (
        f'href="{tuned.get_absolute_url()}"',
        f'href="{release.get_absolute_url()}"',
        f'href="{job.get_absolute_url()}"',
        f'href="{tiny_student.get_absolute_url()}"',
        f'href="{evaluation.get_absolute_url()}"',
    ):
        assert needle in page
    model_page = admin_client.get(tuned.get_absolute_url()).content.decode()
    assert f"/lineage/models/{tuned.name}/" in model_page and release.name in model_page
    release_page = admin_client.get(f"/lineage/releases/{release.name}/").content.decode()
    assert "round-2" in release_page and f"#{evaluation.pk}" in release_page
    assert (
        f"/lineage/releases/{release.name}/"
        in admin_client.get(release.get_absolute_url()).content.decode()
    )
    # the tuned model can be picked for the next stories job
    jobs_page = admin_client.get("/jobs/").content.decode()
    assert 'value="round-2"' in jobs_page
    # An editor follows the lineage too: every link on these pages opens, none answers 403
    # (a release links to its lineage for those who may not download it).
    editor = make_user("ed", "Editor")
    editor_client = Client()
    editor_client.force_login(editor)
    for start in (
        f"/lineage/models/{tuned.name}/",
        tuned.get_absolute_url(),
        job.get_absolute_url(),
        evaluation.get_absolute_url(),
        "/training/",
    ):
        body = editor_client.get(start).content.decode()
        assert f"/lineage/releases/{release.name}/" in body, start
        assert f'href="{release.get_absolute_url()}"' not in body, start
        for link in set(re.findall(r'href="(/[^"#?]*)"', body)):
            if link.startswith(("/static/", "/logout")):
                continue
            assert editor_client.get(link).status_code == 200, (start, link)


@pytest.mark.django_db
def test_the_fine_tune_page_shows_progress_and_the_loss_curve(release, tiny_student, admin_client):
    job = finetune_run(
        job_id=finetune_create(
            release=release,
            base=tiny_student,
            name="curved",
            epochs=2,
            max_length=64,
            enqueue=False,
        ).pk
    )
    page = admin_client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert page.status_code == 286  # finished: the page stops polling
    body = page.content.decode()
    assert "<polyline points=" in body and f"{job.step} / {job.total_steps}" in body
    # the chart has axes a reader can read: titles, round ticks, the last loss written out
    chart = body[body.index('<svg role="img" aria-label="Training loss by step"') :]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", chart[: chart.index("</svg>")])
    assert {"Step", "Loss", "0"} <= set(texts)
    assert number(job.losses[-1][1]) in texts
    assert "→" in body  # validation perplexity before and after


@pytest.mark.django_db
def test_a_fine_tune_is_launched_from_the_page(
    release, tiny_student, admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            "/training/new/",
            {
                "release": release.name,
                "base": "tiny-student",
                "name": "from-page",
                "epochs": 1,
                "learning_rate": 5e-5,
                "max_length": 64,
                "batch_size": 2,
                "seed": 1,
                "lora_rank": 16,
                "lora_alpha": 32,
                "lora_dropout": 0.05,
            },
        )
    assert response.status_code == 302 and len(callbacks) == 1


@pytest.mark.django_db
def test_the_evaluation_page_polls_only_while_a_worker_can_take_it(editor_client):
    """One page state for tracked work: no worker on `train`, the page says so and stops
    polling (286); an idle worker on it, the page polls; a silent claim, it says so."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import EvaluationFactory, WorkerHeartbeatFactory

    evaluation = EvaluationFactory()
    url = evaluation.get_absolute_url()
    page = editor_client.get(url).content.decode()
    assert "No worker is serving queue <strong>train</strong>" in page
    assert 'hx-trigger="every' not in page
    assert editor_client.get(url, headers={"HX-Request": "true"}).status_code == 286
    WorkerHeartbeatFactory(queues=["train"])
    page = editor_client.get(url).content.decode()
    assert "No worker is serving" not in page and 'hx-trigger="every 3s"' in page
    evaluation.status, evaluation.claimed_by = "running", "gone:1:1"
    evaluation.heartbeat_at = timezone.now() - timedelta(hours=1)
    evaluation.save()
    page = editor_client.get(url).content.decode()
    assert "stopped responding (gone:1:1" in page and 'hx-trigger="every' not in page
