import pytest
from django.test import Client
from django.utils import timezone

from curation.models import Story, Topic
from curation.text import text_key
from generation import selectors
from generation.models import GenerationJob, ModelProfile, ModelTest
from generation.services import engine, jobs, registry
from storyapp.models import WorkerHeartbeat
from storyapp.workers import worker_beat
from tests.factories import ThemeFactory

HX = {"HTTP_HX_REQUEST": "true"}
XSS = '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("get", "/jobs/", {"Editor", "Admin"}),
        ("post", "/jobs/new/", {"Editor", "Admin"}),
        ("get", "/models/", {"Editor", "Admin"}),
        ("get", "/models/new/", {"Admin"}),
        ("post", "/models/teacher-1/test/", {"Admin"}),
        ("get", "/prompts/", {"Editor", "Admin"}),
    ],
)
def test_generation_permissions(make_user, teacher, method, url, allowed):
    for role in ("Editor", "Reviewer", "Admin"):
        response = getattr(login(make_user(role.lower(), role)), method)(url)
        if role in allowed:
            assert response.status_code in (200, 302), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url)
    assert Client().get(url).status_code == 302


@pytest.mark.django_db
def test_editor_launches_a_topic_job_from_the_form(
    editor_client, teacher, django_capture_on_commit_callbacks
):
    themes = [ThemeFactory(name=n, status="approved") for n in ("Courage", "Exile", "Hope")]
    with django_capture_on_commit_callbacks() as callbacks:
        response = editor_client.post(
            "/jobs/new/",
            {
                "kind": "topics",
                "model": "teacher-1",
                "prompt_mode": "chat",
                "selection": f"{themes[0].pk}, {themes[1].pk}",
            },
        )
    job = GenerationJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.items.count() == 2 and len(callbacks) == 1


@pytest.mark.django_db
def test_launch_with_ineligible_ids_explains_and_creates_nothing(editor_client, teacher):
    pending = ThemeFactory(name="Pending")
    response = editor_client.post(
        "/jobs/new/",
        {
            "kind": "topics",
            "model": "teacher-1",
            "prompt_mode": "chat",
            "selection": str(pending.pk),
        },
        follow=True,
    )
    assert b"theme not approved" in response.content
    assert not GenerationJob.objects.exists()


@pytest.mark.django_db
def test_progress_polling_stops_with_286_when_the_job_ends(editor_client, teacher, scripted):
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    # Queued, no worker on its queue: the page says so and does not poll.
    unserved = editor_client.get(job.get_absolute_url())
    assert b"No worker is serving queue <strong>teacher</strong>" in unserved.content
    assert b"every 2s" not in unserved.content and b"check again" in unserved.content
    worker_beat(worker_id="w1", backend="db", queues=["teacher"])
    running = editor_client.get(job.get_absolute_url(), **HX)
    assert running.status_code == 200 and b'hx-trigger="every 2s"' in running.content
    engine.job_work(job_id=job.pk)
    finished = editor_client.get(job.get_absolute_url(), **HX)
    assert finished.status_code == 286
    assert b'id="count-done">1<' in finished.content
    assert b"every 2s" not in finished.content


@pytest.mark.django_db
def test_generated_markup_renders_as_text_in_the_console(editor_client, teacher):
    theme = ThemeFactory(name="Courage", status="approved")
    topics_job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    topic = Topic.objects.create(
        theme=theme, text=XSS, text_key=text_key(XSS), generation_job_id=topics_job.pk
    )
    stories_job = jobs.job_create(kind="stories", model=teacher, enqueue=False)
    Story.objects.create(topic=topic, text=XSS + "\n\n" + XSS, generation_job_id=stories_job.pk)
    for job in (topics_job, stories_job):
        body = editor_client.get(job.get_absolute_url()).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert 'href="javascript:' not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.django_db
def test_console_warns_when_no_worker_serves_the_queue(editor_client, teacher):
    ThemeFactory(name="Courage", status="approved")
    jobs.job_create(kind="topics", model=teacher, enqueue=False)
    assert (
        b"No worker is serving queue <strong>teacher</strong>"
        in editor_client.get("/jobs/").content
    )
    worker_beat(worker_id="w1", backend="db", queues=["teacher", "student"])
    assert b"No worker is serving" not in editor_client.get("/jobs/").content
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timezone.timedelta(minutes=10))
    assert b"No worker is serving" in editor_client.get("/jobs/").content


@pytest.mark.django_db
def test_admin_registers_a_model_and_a_bad_host_is_refused(admin_client):
    data = {
        "name": "srv",
        "role": "teacher",
        "backend": "openai",
        "model": "m",
        "base_url": "http://198.51.100.7/v1",
        "max_new_tokens": 100,
        "temperature": 0.7,
        "top_p": 0.9,
        "batch_size": 8,
        "concurrency": 4,
        "queue": "teacher",
    }
    response = admin_client.post("/models/new/", data)
    assert response.status_code == 400
    assert b"not on the model host allowlist" in response.content
    response = admin_client.post("/models/new/", {**data, "base_url": "http://127.0.0.1:9/v1"})
    assert response.status_code == 302
    assert ModelProfile.objects.get(name="srv").base_url == "http://127.0.0.1:9/v1"


@pytest.mark.django_db
def test_model_test_action_queues_a_task_and_shows_the_outcome(
    admin_client, teacher, scripted, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(f"/models/{teacher.name}/test/")
    test = ModelTest.objects.get()
    assert len(callbacks) == 1 and test.status == "queued"
    engine.model_test_run(test_id=test.pk)
    response = admin_client.get(teacher.get_absolute_url(), **HX)
    assert response.status_code == 286
    assert b"Succeeded" in response.content


@pytest.mark.django_db
def test_admin_adds_a_prompt_version_and_bad_placeholders_are_refused(admin_client):
    base = {"kind": "story", "system": "Tell stories.", "raw": "[INST] {topic} [/INST]"}
    response = admin_client.post("/prompts/", {**base, "user": "About {theme}"})
    assert response.status_code == 400
    assert b"know only {topic}" in response.content
    response = admin_client.post("/prompts/", {**base, "user": "About {topic}"})
    assert response.status_code == 302
    assert selectors.template_current("story").version == 2


@pytest.mark.django_db
def test_api_keys_are_never_shown(admin_client, monkeypatch):
    monkeypatch.setenv("SRV_API_KEY", "sk-very-secret-value")
    registry.model_register(
        name="srv",
        role="teacher",
        backend="openai",
        model="m",
        base_url="http://127.0.0.1:9/v1",
        api_key_env="SRV_API_KEY",
    )
    for url in ("/models/", "/models/srv/", "/models/srv/edit/"):
        assert b"sk-very-secret-value" not in admin_client.get(url).content
    assert "sk-very" not in str(ModelProfile.objects.get(name="srv").snapshot())


@pytest.mark.django_db
def test_a_job_whose_items_came_back_short_says_so(editor_client, teacher, monkeypatch):
    from tests.generation.conftest import ScriptedBackend

    backend = ScriptedBackend(lambda request: "1. Only one topic came back here")
    monkeypatch.setattr("generation.services.engine.backend_for", lambda profile: backend)
    for name in ("Courage", "Exile"):
        ThemeFactory(name=name, status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"
    page = editor_client.get(job.get_absolute_url()).content.decode()
    assert 'job-succeeded warn" id="job-status"' in page
    assert "2 of 2 items short" in page and "held fewer topics than asked" in page
    listing = editor_client.get("/jobs/").content.decode()
    assert "2 short" in listing


@pytest.mark.django_db
def test_a_stories_job_leads_with_passed_as_written(editor_client, teacher):
    from tests.factories import StoryFactory, TopicFactory

    topic = TopicFactory(status="approved", theme=ThemeFactory(status="approved"))
    job = jobs.job_create(kind="stories", model=teacher, enqueue=False)
    StoryFactory(topic=topic, generation_job_id=job.pk, passed_as_written=True)
    StoryFactory(
        topic=topic, generation_job_id=job.pk, sample_index=1, auto_edited_text="A. B.\n\nC."
    )
    StoryFactory(
        topic=topic, generation_job_id=job.pk, sample_index=2, auto_rejected=True, status="rejected"
    )
    page = editor_client.get(job.get_absolute_url()).content.decode()
    quality = page[page.index('id="job-quality"') :]
    assert quality.index("Passed as written") < quality.index("Kept by the gates")
    assert 'id="as-written">1 of 3<' in page
    assert 'into two">Repaired</dt><dd>1</dd>' in page


@pytest.mark.django_db
def test_cancelling_a_job_or_a_fine_tune_asks_first(admin_client):
    from tests.factories import FineTuneJobFactory, GenerationJobFactory

    job = GenerationJobFactory()
    body = admin_client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'data-confirm="Cancel job #{job.pk}?' in body
    tune = FineTuneJobFactory()
    body = admin_client.get(f"/training/{tune.pk}/").content.decode()
    assert f'data-confirm="Cancel the fine-tune {tune.name}?' in body


def test_a_time_left_reads_as_a_duration():
    from storyapp.templatetags.storyapp_tags import duration

    assert [duration(s) for s in (None, 12, 95, 2093, 3600, 7830)] == [
        "",
        "under a minute",
        "about 2 min",
        "about 35 min",
        "about 1 h",
        "about 2 h 10 min",
    ]


@pytest.mark.django_db
def test_a_cancelled_job_shows_no_eta_and_automatic_batch_reads_as_such(admin_client):
    from tests.factories import GenerationJobFactory, ModelProfileFactory

    job = GenerationJobFactory(cancel_requested=True)
    body = admin_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<dt>ETA</dt><dd>stopping</dd>" in body
    profile = ModelProfileFactory(batch_size=0)
    body = admin_client.get(profile.get_absolute_url()).content.decode()
    assert "batch automatic (local)" in body and "batch 0" not in body


@pytest.mark.django_db
def test_a_refused_job_keeps_every_input_and_says_why(editor_client, teacher):
    ThemeFactory(name="Courage", status="approved")
    response = editor_client.post(
        "/jobs/new/",
        {
            "kind": "stories",
            "model": "teacher-1",
            "selection": "12, x",
            "per_input": "3",
            "prompt_mode": "chat",
        },
    )
    assert response.status_code == 200  # the page again, the message says what to fix
    body = response.content.decode()
    assert "Or these ids: Invalid id" in body
    assert 'value="12, x"' in body and 'value="3"' in body
    assert '<option value="stories" selected>' in body
    assert 'id="new-job" open' in body  # the form is open, not folded away
    assert not GenerationJob.objects.exists()


@pytest.mark.django_db
def test_a_stories_job_can_take_approved_topics_only(editor_client, teacher):
    theme = ThemeFactory(name="Courage", status="approved")
    approved = [
        Topic.objects.create(theme=theme, text=f"A{n}", text_key=f"a{n}", status="approved")
        for n in range(2)
    ]
    Topic.objects.create(theme=theme, text="Pending", text_key="pending")
    response = editor_client.post(
        "/jobs/new/",
        {"kind": "stories", "model": "teacher-1", "scope": "approved", "prompt_mode": "chat"},
    )
    assert response.status_code == 302
    job = GenerationJob.objects.get()
    assert sorted(job.items.values_list("topic_id", flat=True)) == [t.pk for t in approved]


@pytest.mark.django_db
def test_a_failed_item_is_named_by_its_theme_and_its_raw_reply_can_be_read(editor_client, teacher):
    ThemeFactory(name="Courage & <b>fear</b>", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    item = job.items.get()
    item.status, item.error, item.raw_output = "failed", "no topics in the reply", XSS
    item.save()
    job.status = "failed"
    job.save()
    body = editor_client.get(job.get_absolute_url()).content.decode()
    assert "Courage &amp; &lt;b&gt;fear&lt;/b&gt;" in body and item.key not in body
    page = editor_client.get(f"/jobs/{job.pk}/items/{item.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert" not in text
    assert "no topics in the reply" in text
    assert editor_client.get(f"/jobs/{job.pk + 1}/items/{item.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_queued_job_says_what_it_waits_behind(editor_client, teacher):
    ThemeFactory(name="Courage", status="approved")
    job = jobs.job_create(kind="topics", model=teacher, enqueue=False)
    worker_beat(worker_id="w1", backend="db", queues=["teacher"])
    WorkerHeartbeat.objects.update(activity="job 999")
    assert b"behind job 999 on queue teacher" in editor_client.get("/jobs/").content
    assert (
        b"Queued behind job 999 on queue teacher"
        in editor_client.get(job.get_absolute_url()).content
    )
    # a second worker that is free: nothing to wait behind
    worker_beat(worker_id="w2", backend="db", queues=["teacher"])
    assert b"behind job 999" not in editor_client.get("/jobs/").content
    WorkerHeartbeat.objects.all().delete()
    assert b"no worker serves queue teacher" in editor_client.get("/jobs/").content


@pytest.mark.django_db
def test_a_models_page_shows_its_repetition_control(editor_client, teacher):
    teacher.backend, teacher.repetition_penalty, teacher.no_repeat_ngram_size = (
        "transformers",
        1.3,
        4,
    )
    teacher.batch_size = 0
    teacher.save()
    body = editor_client.get(teacher.get_absolute_url()).content.decode()
    assert "repetition penalty 1.3, no repeated 4-grams" in body
    assert "batch automatic" in body
    teacher.backend, teacher.frequency_penalty = "openai", 0.5
    teacher.base_url = "http://127.0.0.1:9/v1"
    teacher.extra_body = {"repetition_penalty": 1.1}
    teacher.save()
    body = editor_client.get(teacher.get_absolute_url()).content.decode()
    assert "frequency penalty 0.5, presence penalty off" in body
    assert "{&quot;repetition_penalty&quot;: 1.1}" in body
