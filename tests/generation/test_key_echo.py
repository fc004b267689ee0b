"""A model server that answers 200 with the request's key inside its text: the key is scrubbed
at the backend boundary, so it reaches no row, page, release file or log line."""

import logging

import pytest

from curation.exports.layout import export_folder
from curation.exports.runner import export_run
from curation.exports.services import export_create
from curation.models import Story, Theme, Topic
from curation.services.reviews import story_adjudicate
from generation.backends import GenerationRequest, OpenAIBackend
from generation.models import JobItem
from generation.services import engine, jobs, registry
from tests.factories import ThemeFactory
from tests.generation.fault_server import FaultServer
from training.models import EvaluationSample
from training.services.evaluation import evaluation_create
from training.services.runs import evaluation_run

KEY = "sk-echoed-0123456789abcdef"


@pytest.fixture(scope="module")
def server():
    with FaultServer() as running:
        yield running


def test_a_200_reply_is_scrubbed_by_the_backend_itself(server, monkeypatch):
    monkeypatch.setenv("TEACHER_API_KEY", KEY)
    backend = OpenAIBackend(
        base_url=server.url, model="echo-auth-ok", api_key_env="TEACHER_API_KEY", max_retries=0
    )
    seen = []
    request = GenerationRequest(messages=[{"role": "user", "content": 'a story about "x"'}])
    [result] = backend.generate([request], on_result=lambda i, r: seen.append(r))
    assert result.ok and KEY not in result.text and "[redacted]" in result.text
    assert "Bearer [redacted]" in result.text
    assert seen[0].text == result.text  # what a caller records as it arrives is clean too


@pytest.mark.django_db
def test_a_key_echoed_in_a_successful_reply_reaches_no_row_page_release_or_log(
    server, monkeypatch, settings, var_dir, caplog, admin_user, client, make_user
):
    monkeypatch.setenv("TEACHER_API_KEY", KEY)
    settings.STORYAPP_HTTP_MAX_RETRIES = 0
    profile, _ = registry.model_register(
        name="echoer",
        role="teacher",
        backend="openai",
        model="echo-auth-ok",
        base_url=server.url,
        api_key_env="TEACHER_API_KEY",
    )
    other, _ = registry.model_register(
        name="echoer-2",
        role="student",
        backend="openai",
        model="echo-auth-ok",
        base_url=server.url,
        api_key_env="TEACHER_API_KEY",
    )
    ThemeFactory(name="Courage", status=Theme.Status.APPROVED)
    with caplog.at_level(logging.DEBUG):
        topics_job = jobs.job_create(kind="topics", model=profile, enqueue=False)
        engine.job_work(job_id=topics_job.pk)
        Topic.objects.update(status=Topic.Status.APPROVED)
        stories_job = jobs.job_create(kind="stories", model=profile, enqueue=False)
        engine.job_work(job_id=stories_job.pk)
        evaluation = evaluation_create(
            profiles=[profile, other], topic_ids=list(Topic.objects.values_list("pk", flat=True))
        )
        evaluation_run(evaluation_id=evaluation.pk)
    assert Topic.objects.count() == 7 and Story.objects.count() == 7
    assert EvaluationSample.objects.count() == 14
    stored = [
        *Topic.objects.values_list("text", flat=True),
        *Story.objects.values_list("text", flat=True),
        *JobItem.objects.values_list("raw_output", flat=True),
        *EvaluationSample.objects.values_list("text", flat=True),
    ]
    assert all(KEY not in text and "[redacted]" in text for text in stored)

    for story in Story.objects.all():
        story_adjudicate(story_id=story.pk, admin=admin_user, decision="approve", reason="ok")
    export = export_create(name="with-echo", enqueue=False, val_fraction=0.0)
    export_run(export_id=export.pk)
    files = [path for path in export_folder(export).rglob("*") if path.is_file()]
    assert len(files) > 5
    assert all(KEY.encode() not in path.read_bytes() for path in files)

    story = Story.objects.first()
    pages = [
        story.get_absolute_url(),
        "/stories/",
        topics_job.get_absolute_url(),
        stories_job.get_absolute_url(),
        "/topics/",
        "/review/",
        "/compare/",
        evaluation.get_absolute_url(),
    ]
    for role in ("Admin", "Editor", "Reviewer"):
        client.force_login(make_user(f"who-{role.lower()}", role))
        for page in pages:
            response = client.get(page, follow=True)
            assert response.status_code in (200, 403), (role, page)
            assert KEY.encode() not in response.content, (role, page)
    logged = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert KEY not in logged


@pytest.mark.django_db
def test_a_reply_over_the_bound_is_stored_cut_there_flagged_and_counted(server, settings):
    from generation.selectors import job_quality
    from tests.factories import TopicFactory

    settings.STORYAPP_MAX_TEXT_CHARS = 1000
    settings.STORYAPP_HTTP_MAX_RETRIES = 0
    profile, _ = registry.model_register(
        name="huge",
        role="teacher",
        backend="openai",
        model="huge",
        base_url=server.url,
        max_new_tokens=4000,  # "word " * 4000: 20,000 characters
    )
    TopicFactory(text="A lighthouse keeper and a storm", status=Topic.Status.APPROVED)
    job = jobs.job_create(kind="stories", model=profile, enqueue=False)
    engine.job_work(job_id=job.pk)
    item = job.items.get()
    story = Story.objects.get()
    assert len(item.raw_output) <= 1000 and len(story.text) <= 1000
    assert item.cut_at_bound and item.finish_reason == "length"
    quality = job_quality(job)
    assert quality["cut_at_bound"] == 1
    assert any("1,000 characters" in hint for hint in quality["hints"])
