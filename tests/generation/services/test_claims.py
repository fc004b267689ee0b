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
