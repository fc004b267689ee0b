import pytest

from curation.models import Story, Topic
from generation.backends import GenerationResult
from generation.services import engine, jobs
from tests.factories import ThemeFactory, TopicFactory


@pytest.mark.django_db
def test_topic_job_writes_parsed_topics_with_provenance(
    teacher, scripted, django_capture_on_commit_callbacks
):
    themes = [
        ThemeFactory(name="Courage", status="approved"),
        ThemeFactory(name="Exile", status="approved"),
    ]
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
    theme = ThemeFactory(name="Courage", status="approved")
    TopicFactory(theme=theme, text="A TALE OF COURAGE NUMBER 3 IN THE CITY")
    job = jobs.job_create(kind="topics", model=teacher, selection=[theme.pk], enqueue=False)
    engine.job_work(job_id=job.pk)
    assert Topic.objects.filter(theme=theme).count() == 7  # 6 new + the existing one
    assert job.items.get().outputs == 6


@pytest.mark.django_db
def test_short_reply_marks_the_item_short(teacher, scripted):
    scripted.reply = lambda request: "1. Only one topic came back here"
    theme = ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, selection=[theme.pk], enqueue=False)
    engine.job_work(job_id=job.pk)
    item = job.items.get()
    assert item.status == "done" and item.short and item.outputs == 1


@pytest.mark.django_db
def test_story_job_makes_one_story_per_sample(teacher, scripted):
    theme = ThemeFactory(name="Courage", status="approved")
    topics = [TopicFactory(theme=theme, text=f"A brave topic number {n}") for n in range(3)]
    TopicFactory(theme=theme, text="A rejected topic", status="rejected")
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
    themes = [
        ThemeFactory(name="Courage", status="approved"),
        ThemeFactory(name="Exile", status="approved"),
    ]
    job = jobs.job_create(kind="topics", model=teacher, per_input=2, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "finished_with_errors"
    failed = job.items.get(theme_id=themes[1].pk)
    assert failed.status == "failed" and failed.error == "HTTP 500 from the model server: boom"


@pytest.mark.django_db
def test_a_redelivered_task_does_nothing_twice(teacher, scripted):
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    calls = len(scripted.calls)
    engine.job_work(job_id=job.pk)
    assert len(scripted.calls) == calls
    assert Topic.objects.count() == 7


@pytest.mark.django_db
def test_raw_mode_sends_the_seed_literal_prompt(teacher, scripted):
    ThemeFactory(name="Abuse of power", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, prompt_mode="raw", enqueue=False)
    engine.job_work(job_id=job.pk)
    [request] = scripted.calls[0]
    assert request.messages is None
    assert request.prompt.strip().startswith("[INST]:<<SYS>>You are a chatbot")
    assert 'about "Abuse of power". Provide 7 possibilities. [/INST]' in request.prompt


@pytest.mark.django_db
def test_a_backend_that_raises_fails_its_items_with_the_reason(teacher, monkeypatch):
    class Broken:
        def generate(self, requests, on_result=None):
            raise MemoryError("CUDA out of memory")

    monkeypatch.setattr("generation.services.engine.backend_for", lambda profile: Broken())
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    item = job.items.get()
    assert (item.status, item.error) == ("failed", "generation failed: CUDA out of memory")
    job.refresh_from_db()
    assert job.status == "failed"


@pytest.mark.django_db
def test_an_output_the_database_refuses_fails_only_its_item(teacher, scripted, monkeypatch):
    from django.db import DataError

    real = engine.topics_add_generated

    def picky(*, theme_id, texts, provenance):
        if "Exile" in texts[0]:
            raise DataError("value too long for type character varying(500)")
        return real(theme_id=theme_id, texts=texts, provenance=provenance)

    monkeypatch.setattr("generation.services.engine.topics_add_generated", picky)
    for name in ("Courage", "Exile"):
        ThemeFactory(name=name, status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    statuses = dict(job.items.values_list("key", "status"))
    assert sorted(statuses.values()) == ["done", "failed"]
    failed = job.items.get(status="failed")
    assert failed.error.startswith("could not store the output: value too long")
    assert Topic.objects.count() == 7


@pytest.mark.django_db
def test_items_are_written_as_their_results_come_in_not_per_batch(teacher, monkeypatch):
    from generation.models import JobItem

    seen_done = []

    class OneByOne:
        def generate(self, requests, on_result=None):
            results = []
            for index in range(len(requests)):
                # what the job page would show while this request is still running
                seen_done.append(JobItem.objects.filter(status="done").count())
                result = GenerationResult(
                    text="1. A tale of something small\n2. A tale of something large\n"
                    "3. A tale of something else",
                    finish_reason="stop",
                    completion_tokens=12,
                )
                results.append(result)
                on_result(index, result)
            return results

    monkeypatch.setattr("generation.services.engine.backend_for", lambda profile: OneByOne())
    for name in ("Courage", "Exile", "Hope"):
        ThemeFactory(name=name, status="approved")
    job = jobs.job_create(kind="topics", model=teacher, per_input=3, enqueue=False)
    engine.job_work(job_id=job.pk)
    assert seen_done == [0, 1, 2]  # one batch of three, written one by one


@pytest.mark.django_db
def test_a_model_test_runs_between_two_claims_of_a_long_job(teacher, scripted):
    from generation.models import ModelTest

    teacher.batch_size = 1
    teacher.save()
    for name in ("Courage", "Exile"):
        ThemeFactory(name=name, status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    test = ModelTest.objects.create(profile=teacher)
    engine.job_work(job_id=job.pk)
    test.refresh_from_db()
    assert test.status == "succeeded" and test.output == "A lighthouse kept its light."
    # it ran before the job's first claim: its request is the first the model got
    assert scripted.calls[0][0].messages == engine.TEST_MESSAGES


@pytest.mark.django_db
@pytest.mark.parametrize(
    "penalty, advice",
    [
        (1.0, "add repetition control to the model profile"),
        (1.05, "with repetition control on: the model runs on past its story"),
    ],
)
def test_the_length_hint_fits_how_the_stories_were_sampled(teacher, monkeypatch, penalty, advice):
    from generation.selectors import job_quality
    from tests.generation.conftest import ScriptedBackend

    def runs_on(request):
        return GenerationResult(
            text="It began.\n\nIt went on.\n\nAnd on and",
            finish_reason="length",
            prompt_tokens=10,
            completion_tokens=256,
            latency_ms=5,
        )

    backend = ScriptedBackend(runs_on)
    monkeypatch.setattr("generation.services.engine.backend_for", lambda profile: backend)
    teacher.repetition_penalty = penalty
    teacher.save()
    TopicFactory(text="A lantern maker")
    TopicFactory(text="A drowned bell")
    job = jobs.job_create(kind="stories", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    quality = job_quality(job)
    assert quality["at_limit_share"] == 1.0
    # Two complete paragraphs, then the limit: never repaired into a pass.
    assert (quality["repaired"], quality["passed"], quality["as_written"]) == (0, 0, 0)
    [hint] = quality["hints"]
    assert hint.startswith("100% of the stories stopped at the token limit")
    assert advice in hint
