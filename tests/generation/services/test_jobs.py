import pytest
from django.core.exceptions import ValidationError

from generation.backends import GenerationResult
from generation.models import GenerationJob
from generation.services import engine, jobs
from tests.factories import ThemeFactory, TopicFactory


@pytest.mark.django_db
def test_ineligible_ids_are_refused_and_listed(teacher):
    ok = ThemeFactory(name="Courage", status="approved")
    pending = ThemeFactory(name="Pending one")
    with pytest.raises(ValidationError) as excinfo:
        jobs.job_create(kind="topics", model=teacher, selection=[ok.pk, pending.pk])
    assert excinfo.value.code == "theme_not_approved"
    assert str(pending.pk) in excinfo.value.messages[0]
    rejected = TopicFactory(theme=ok, text="A rejected topic about courage", status="rejected")
    with pytest.raises(ValidationError) as excinfo:
        jobs.job_create(kind="stories", model=teacher, selection=[rejected.pk])
    assert excinfo.value.code == "topic_rejected"
    assert GenerationJob.objects.count() == 0


@pytest.mark.django_db
def test_retry_failed_requeues_only_failed_items(
    teacher, scripted, django_capture_on_commit_callbacks
):
    scripted.reply = lambda request: GenerationResult(error="down")
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"

    scripted.reply = lambda request: "1. A tale of courage in the city"
    with django_capture_on_commit_callbacks() as callbacks:
        assert jobs.job_retry_failed(job=job) == 1
    assert len(callbacks) == 1
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"
    with pytest.raises(ValidationError) as excinfo:
        jobs.job_retry_failed(job=job)
    assert excinfo.value.code == "nothing_to_retry"


@pytest.mark.django_db
def test_cancel_stops_new_claims(teacher, scripted):
    for n in range(3):
        ThemeFactory(name=f"Theme {n}", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    jobs.job_cancel(job=job)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and scripted.calls == []
    assert job.items.filter(status="pending").count() == 3
