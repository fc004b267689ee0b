from datetime import timedelta

import pytest
from django.utils import timezone

from curation.models import Topic
from generation import tasks
from generation.models import JobItem
from generation.services import claims, engine, jobs
from tests.factories import ThemeFactory


@pytest.mark.django_db
def test_two_workers_claim_disjoint_items_and_a_stale_write_is_dropped(teacher, scripted):
    for n in range(6):
        ThemeFactory(name=f"Theme {n}", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    token_a, items_a = claims.items_claim(job_id=job.pk, worker_id="a", limit=4)
    token_b, items_b = claims.items_claim(job_id=job.pk, worker_id="b", limit=4)
    assert len(items_a) == 4 and len(items_b) == 2
    assert not {i.pk for i in items_a} & {i.pk for i in items_b}

    # Worker b goes silent; the sweeper hands its items to worker c.
    JobItem.objects.filter(claim_token=token_b).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert tasks.sweep() == [job.pk]
    token_c, items_c = claims.items_claim(job_id=job.pk, worker_id="c", limit=4)
    assert {i.pk for i in items_c} == {i.pk for i in items_b}

    for token, items in ((token_a, items_a), (token_c, items_c), (token_b, items_b)):
        requests = engine.requests_for(job, items)
        results = scripted.generate(requests)
        engine.items_complete(job=job, token=token, items=items, requests=requests, results=results)

    assert Topic.objects.count() == 6 * 7
    assert set(JobItem.objects.values_list("status", flat=True)) == {"done"}
    assert JobItem.objects.filter(claimed_by="b").count() == 0
    assert claims.job_refresh_status(job_id=job.pk).status == "succeeded"


@pytest.mark.django_db
def test_sweeper_fails_an_item_after_too_many_dead_workers(teacher, settings):
    settings.STORYAPP_MAX_ATTEMPTS = 2
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    for _ in range(2):
        token, _ = claims.items_claim(job_id=job.pk, worker_id="x", limit=1)
        JobItem.objects.filter(claim_token=token).update(
            heartbeat_at=timezone.now() - timedelta(hours=1)
        )
        claims.items_sweep()
    item = job.items.get()
    assert item.status == "failed" and "stopped responding 2 times" in item.error
    job.refresh_from_db()
    assert job.status == "failed"


@pytest.mark.django_db
def test_model_tests_never_stay_queued_or_running_forever(teacher, settings):
    from generation import tasks
    from generation.models import ModelTest

    settings.STORYAPP_MODEL_TEST_WAIT_MINUTES = 30
    now = timezone.now()
    running = ModelTest.objects.create(
        profile=teacher, status="running", heartbeat_at=now - timedelta(minutes=5)
    )
    waiting = ModelTest.objects.create(profile=teacher)
    ModelTest.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(minutes=31))
    fresh = ModelTest.objects.create(profile=teacher)
    tasks.sweep()
    running.refresh_from_db()
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert (running.status, running.error) == (
        "failed",
        "its worker stopped responding during the test",
    )
    assert waiting.status == "failed" and "within 30 minutes" in waiting.error
    assert fresh.status == "queued"


@pytest.mark.django_db
def test_a_model_test_that_crashes_ends_failed_with_the_reason(teacher, monkeypatch):
    from generation.models import ModelTest
    from generation.services import engine

    class Broken:
        def generate(self, requests, on_result=None):
            raise RuntimeError("the GPU fell over")

    monkeypatch.setattr("generation.services.engine.backend_for", lambda profile: Broken())
    test = ModelTest.objects.create(profile=teacher)
    engine.model_test_run(test_id=test.pk)
    engine.model_test_run(test_id=test.pk)  # a second delivery does nothing
    test.refresh_from_db()
    assert (test.status, test.error) == ("failed", "generation failed: the GPU fell over")
