from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from curation.models import Story, Topic
from curation.text import text_key
from generation import tasks
from generation.backends import GenerationResult
from generation.models import GenerationJob, JobItem
from generation.services import claims, engine, jobs
from tests.factories import ThemeFactory


def approved_theme(name):
    return ThemeFactory(name=name, status="approved")


def make_topic(theme, text, status="pending"):
    return Topic.objects.create(theme=theme, text=text, text_key=text_key(text), status=status)


@pytest.mark.django_db
def test_topic_job_writes_parsed_topics_with_provenance(
    teacher, scripted, django_capture_on_commit_callbacks
):
    themes = [approved_theme("Courage"), approved_theme("Exile")]
    with django_capture_on_commit_callbacks() as callbacks:
        job = jobs.job_create(kind="topics", model=teacher, selection=[t.pk for t in themes])
    assert len(callbacks) == 1  # enqueued after commit, not before

    engine.job_work(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "succeeded" and job.started_at and job.finished_at
    topics = Topic.objects.filter(theme=themes[0]).order_by("pk")
    assert [t.text for t in topics][:2] == [
        "A tale of Courage number 1 in the city",
        "A tale of Courage number 2 in the city",
    ]
    assert topics.count() == 7
    topic = topics[0]
    assert topic.generation_job_id == job.pk
    assert topic.model_name == "teacher-1" and topic.model_snapshot["model"] == "/nowhere"
    assert topic.template_version == "topics v1 (chat)"
    assert "Courage" in topic.prompt and topic.sampling["temperature"] == 0.0
    assert (topic.finish_reason, topic.prompt_tokens, topic.latency_ms) == ("stop", 10, 5)
    item = job.items.get(theme_id=themes[0].pk)
    assert item.raw_output.startswith("Here you go:") and item.outputs == 7 and not item.short


@pytest.mark.django_db
def test_duplicate_topics_within_a_theme_are_stored_once(teacher, scripted):
    theme = approved_theme("Courage")
    make_topic(theme, "A TALE OF COURAGE NUMBER 3 IN THE CITY")
    job = jobs.job_create(kind="topics", model=teacher, selection=[theme.pk], enqueue=False)
    engine.job_work(job_id=job.pk)
    assert Topic.objects.filter(theme=theme).count() == 7  # 6 new + the existing one
    assert job.items.get().outputs == 6


@pytest.mark.django_db
def test_short_reply_marks_the_item_short(teacher, scripted):
    scripted.reply = lambda request: "1. Only one topic came back here"
    theme = approved_theme("Courage")
    job = jobs.job_create(kind="topics", model=teacher, selection=[theme.pk], enqueue=False)
    engine.job_work(job_id=job.pk)
    item = job.items.get()
    assert item.status == "done" and item.short and item.outputs == 1


@pytest.mark.django_db
def test_ineligible_ids_are_refused_and_listed(teacher):
    ok = approved_theme("Courage")
    pending = ThemeFactory(name="Pending one")
    with pytest.raises(ValidationError) as excinfo:
        jobs.job_create(kind="topics", model=teacher, selection=[ok.pk, pending.pk])
    assert excinfo.value.code == "theme_not_approved"
    assert str(pending.pk) in excinfo.value.messages[0]
    rejected = make_topic(ok, "A rejected topic about courage", status="rejected")
    with pytest.raises(ValidationError) as excinfo:
        jobs.job_create(kind="stories", model=teacher, selection=[rejected.pk])
    assert excinfo.value.code == "topic_rejected"
    assert GenerationJob.objects.count() == 0


@pytest.mark.django_db
def test_story_job_makes_one_story_per_sample(teacher, scripted):
    theme = approved_theme("Courage")
    topics = [make_topic(theme, f"A brave topic number {n}") for n in range(3)]
    make_topic(theme, "A rejected topic", status="rejected")
    job = jobs.job_create(kind="stories", model=teacher, per_input=2, enqueue=False)
    assert job.items.count() == 6
    engine.job_work(job_id=job.pk)
    assert Story.objects.count() == 6
    story = Story.objects.filter(topic=topics[0]).order_by("sample_index").first()
    assert story.text.startswith("Once, A brave topic number 0 began.")
    assert story.template_version == "story v1 (chat)"


@pytest.mark.django_db
def test_failed_requests_fail_their_items_with_the_error_and_the_job_finishes(teacher, scripted):
    def reply(request):
        if "Exile" in request.messages[-1]["content"]:
            return GenerationResult(error="HTTP 500 from the model server: boom")
        return "1. A tale of courage in the city\n2. Another tale of courage here"

    scripted.reply = reply
    themes = [approved_theme("Courage"), approved_theme("Exile")]
    job = jobs.job_create(kind="topics", model=teacher, per_input=2, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "finished_with_errors"
    failed = job.items.get(theme_id=themes[1].pk)
    assert failed.status == "failed" and failed.error == "HTTP 500 from the model server: boom"


@pytest.mark.django_db
def test_retry_failed_requeues_only_failed_items(
    teacher, scripted, django_capture_on_commit_callbacks
):
    scripted.reply = lambda request: GenerationResult(error="down")
    approved_theme("Courage")
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
def test_a_redelivered_task_does_nothing_twice(teacher, scripted):
    approved_theme("Courage")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    calls = len(scripted.calls)
    engine.job_work(job_id=job.pk)
    assert len(scripted.calls) == calls
    assert Topic.objects.count() == 7


@pytest.mark.django_db
def test_two_workers_claim_disjoint_items_and_a_stale_write_is_dropped(teacher, scripted):
    for n in range(6):
        approved_theme(f"Theme {n}")
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
    approved_theme("Courage")
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
def test_cancel_stops_new_claims(teacher, scripted):
    for n in range(3):
        approved_theme(f"Theme {n}")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    jobs.job_cancel(job=job)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and scripted.calls == []
    assert job.items.filter(status="pending").count() == 3


@pytest.mark.django_db
def test_raw_mode_sends_the_seed_literal_prompt(teacher, scripted):
    approved_theme("Abuse of power")
    job = jobs.job_create(kind="topics", model=teacher, prompt_mode="raw", enqueue=False)
    engine.job_work(job_id=job.pk)
    [request] = scripted.calls[0]
    assert request.messages is None
    assert request.prompt.strip().startswith("[INST]:<<SYS>>You are a chatbot")
    assert 'about "Abuse of power". Provide 7 possibilities. [/INST]' in request.prompt
