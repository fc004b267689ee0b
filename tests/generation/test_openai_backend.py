"""The openai backend against a local server that fails in every way a real one does."""

import logging
import time

import pytest

from generation.backends import GenerationRequest, OpenAIBackend
from tests.generation.fault_server import FaultServer


@pytest.fixture(scope="module")
def server():
    with FaultServer() as running:
        yield running


def ask(server, model, *, retries=2, timeout=1.0, n=1):
    backend = OpenAIBackend(
        base_url=server.url, model=model, concurrency=4, timeout=timeout, max_retries=retries
    )
    request = GenerationRequest(
        messages=[{"role": "user", "content": "hello"}], max_new_tokens=8, temperature=0
    )
    return backend.generate([request] * n)


def test_ok_reply_carries_text_usage_and_finish_reason(server):
    results = ask(server, "ok", n=3)
    assert [r.text for r in results] == ["echo: hello"] * 3
    assert results[0].finish_reason == "stop"
    assert (results[0].prompt_tokens, results[0].completion_tokens) == (11, 7)


def test_429_is_retried_after_the_retry_after_delay(server):
    started = time.perf_counter()
    [result] = ask(server, "rate-limit")
    assert result.ok and result.text == "after the wait"
    assert time.perf_counter() - started >= 0.9
    assert server.hits["rate-limit"] == 2  # the only test that uses this model


def test_500_is_retried_then_reported(server):
    before = server.hits["error500"]
    [result] = ask(server, "error500", retries=2)
    assert result.error == "HTTP 500 from the model server: boom"
    assert server.hits["error500"] - before == 3


def test_400_is_not_retried(server):
    before = server.hits["bad-request"]
    [result] = ask(server, "bad-request", retries=3)
    assert result.error == "HTTP 400 from the model server: bad parameter"
    assert server.hits["bad-request"] - before == 1


def test_a_hanging_server_times_out(server):
    [result] = ask(server, "hang", retries=0, timeout=0.5)
    assert result.error == "the model server did not answer within 0.5 s"


def test_malformed_json_is_a_readable_error(server):
    [result] = ask(server, "malformed", retries=0)
    assert result.error.startswith("malformed reply from the model server")


def test_empty_choices_is_a_readable_error(server):
    [result] = ask(server, "empty", retries=0)
    assert result.error == "malformed reply from the model server: the server returned no choices"


def test_redirects_are_not_followed(server):
    [result] = ask(server, "redirect", retries=0)
    assert not result.ok and "307" in result.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("error500", "HTTP 500 from the model server: boom"),
        ("malformed", "malformed reply from the model server"),
        ("empty", "malformed reply from the model server: the server returned no choices"),
        ("hang", "the model server did not answer within 0.5 s"),
        ("bad-request", "HTTP 400 from the model server: bad parameter"),
    ],
)
def test_a_job_on_a_misbehaving_server_finishes_with_readable_item_errors(
    server, settings, model, error
):
    from curation.models import Theme
    from generation.services import engine, jobs, registry
    from tests.factories import ThemeFactory

    settings.STORYAPP_HTTP_MAX_RETRIES = 0
    settings.STORYAPP_HTTP_TIMEOUT = 0.5
    profile, _ = registry.model_register(
        name="faulty", role="teacher", backend="openai", model=model, base_url=server.url
    )
    ThemeFactory(name="Courage", status=Theme.Status.APPROVED)
    ThemeFactory(name="Exile", status=Theme.Status.APPROVED)
    job = jobs.job_create(kind="topics", model=profile, enqueue=False)

    engine.job_work(job_id=job.pk)  # must not raise

    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    errors = [item.error for item in job.items.all()]
    assert all(e.startswith(error) for e in errors), errors


@pytest.mark.django_db
def test_a_key_echoed_by_the_server_never_reaches_a_row_a_page_or_a_log(
    server, settings, monkeypatch, caplog, editor_client
):
    from curation.models import Theme
    from generation.models import ModelTest
    from generation.services import engine, jobs, registry
    from tests.factories import ThemeFactory

    key = "sk-test-0123456789abcdef"
    monkeypatch.setenv("TEACHER_API_KEY", key)
    settings.STORYAPP_HTTP_MAX_RETRIES = 0
    profile, _ = registry.model_register(
        name="echoer",
        role="teacher",
        backend="openai",
        model="echo-auth",
        base_url=server.url,
        api_key_env="TEACHER_API_KEY",
    )
    ThemeFactory(name="Courage", status=Theme.Status.APPROVED)
    job = jobs.job_create(kind="topics", model=profile, enqueue=False)
    test = ModelTest.objects.create(profile=profile)
    with caplog.at_level(logging.DEBUG):
        engine.job_work(job_id=job.pk)
        engine.model_test_run(test_id=test.pk)
    test.refresh_from_db()
    item = job.items.get()
    assert test.status == "failed" and "HTTP 401" in test.error
    assert item.status == "failed" and "HTTP 401" in item.error
    for text in (test.error, item.error, item.raw_output):
        assert key not in text
    assert "Bearer [redacted]" in test.error
    for page in (profile.get_absolute_url(), job.get_absolute_url()):
        assert key.encode() not in editor_client.get(page).content
    logged = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert key not in logged


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "status", "stored"),
    [("nul-error", "failed", "exploded"), ("nul-finish", "done", "stop")],
)
def test_nul_bytes_from_a_server_are_cleaned_before_they_are_stored(
    server, settings, model, status, stored
):
    """PostgreSQL refuses NUL in text: the real outcome is stored, not a crash."""
    from curation.models import Theme, Topic
    from generation.models import ModelTest
    from generation.services import engine, jobs, registry
    from tests.factories import ThemeFactory

    settings.STORYAPP_HTTP_MAX_RETRIES = 0
    profile, _ = registry.model_register(
        name="nul", role="teacher", backend="openai", model=model, base_url=server.url
    )
    ThemeFactory(name="Courage", status=Theme.Status.APPROVED)
    job = jobs.job_create(kind="topics", model=profile, per_input=1, enqueue=False)
    engine.job_work(job_id=job.pk)
    item = job.items.get()
    assert item.status == status
    assert "\x00" not in item.error + item.finish_reason + item.raw_output
    assert stored in (item.error or item.finish_reason)
    test = ModelTest.objects.create(profile=profile)
    engine.model_test_run(test_id=test.pk)
    test.refresh_from_db()
    assert test.status in ("failed", "succeeded") and "\x00" not in test.error + test.output
    if status == "done":
        assert "\x00" not in Topic.objects.get().text + Topic.objects.get().finish_reason


@pytest.mark.django_db
def test_until_pass_samples_a_topic_again_until_a_story_passes_the_gates(server, settings):
    from curation.models import Story
    from generation.selectors import job_quality
    from generation.services import engine, jobs, registry
    from tests.factories import TopicFactory

    settings.STORYAPP_HTTP_MAX_RETRIES = 0
    profile, _ = registry.model_register(
        name="writer", role="student", backend="openai", model="until-pass", base_url=server.url
    )
    topics = [TopicFactory(text=f"A lantern maker number {n}") for n in range(2)]
    job = jobs.job_create(kind="stories", model=profile, until_pass=3, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"
    for topic in topics:
        written = Story.objects.filter(topic=topic).order_by("sample_index")
        assert [(s.sample_index, s.auto_rejected) for s in written] == [(0, True), (1, False)]
        assert server.topics_asked[topic.text] == 2
    assert job.items.count() == 4  # one retry per topic, not up to the limit
    quality = job_quality(job)
    assert (quality["topics_passed"], quality["topics"]) == (2, 2)
    assert (quality["passed"], quality["n"]) == (2, 4)
