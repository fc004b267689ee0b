import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from generation.backends import GenerationResult
from generation.models import GenerationJob, ModelProfile
from tests.factories import ThemeFactory


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# An openai teacher named srv; tests add the rest.
SERVER_PROFILE = ("register_model", "srv", "--role", "teacher", "--backend", "openai")


@pytest.mark.django_db
def test_register_model_creates_then_updates_only_given_fields():
    out = run(
        *SERVER_PROFILE,
        "--model",
        "llama",
        "--base-url",
        "http://127.0.0.1:8080/v1",
        "--api-key-env",
        "SRV_API_KEY",
        "--concurrency",
        "8",
    )
    assert out.startswith("Registered srv: teacher, openai, llama, queue teacher")
    run("register_model", "srv", "--temperature", "0.2")
    profile = ModelProfile.objects.get(name="srv")
    assert (profile.temperature, profile.concurrency, profile.api_key_env) == (
        0.2,
        8,
        "SRV_API_KEY",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "http://203.0.113.9/v1"], "not on the model host allowlist"),
        ([], "needs a base URL"),
        (["--base-url", "http://127.0.0.1/v1", "--queue", "nowhere"], "Queue nowhere"),
    ],
)
def test_register_model_refuses_bad_input_with_exit_2(args, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        run(*SERVER_PROFILE, "--model", "m", *args)
    assert excinfo.value.returncode == 2
    assert not ModelProfile.objects.exists()


@pytest.mark.django_db
def test_generate_inline_prints_the_job_and_exits_0(teacher, scripted):
    ThemeFactory(name="Courage", status="approved")
    out = run("generate", "topics", "--model", "teacher-1", "--inline")
    job = GenerationJob.objects.get()
    assert out.startswith(f"job {job.pk}\n")
    status = json.loads(out.split("\n", 1)[1])
    assert status["status"] == "succeeded" and status["items"]["done"] == 1

    out = run("generate", "stories", "--model", "teacher-1", "--inline", "--per-topic", "2")
    status = json.loads(out.split("\n", 1)[1])
    assert status["kind"] == "stories" and status["items"]["done"] == 14


@pytest.mark.django_db
def test_generate_exits_1_when_items_failed(teacher, scripted):
    scripted.reply = lambda request: GenerationResult(error="HTTP 500 from the model server")
    ThemeFactory(name="Courage", status="approved")
    with pytest.raises(CommandError) as excinfo:
        run("generate", "topics", "--model", "teacher-1", "--inline")
    assert excinfo.value.returncode == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["topics", "--model", "nope"], "No model profile 'nope'"),
        (["topics", "--model", "teacher-1", "--themes", "abc"], "comma-separated ids"),
        (["topics", "--model", "teacher-1", "--themes", "PENDING"], "theme not approved"),
        (["stories", "--model", "teacher-1", "--topics", "999999"], "no such topic"),
    ],
)
def test_generate_refuses_bad_input_with_exit_2_listing_ids(teacher, args, message):
    pending = ThemeFactory(name="Pending")
    args = [str(pending.pk) if a == "PENDING" else a for a in args]
    with pytest.raises(CommandError, match=message) as excinfo:
        run("generate", *args)
    assert excinfo.value.returncode == 2
    if "PENDING" in message:
        assert str(pending.pk) in str(excinfo.value)
    assert not GenerationJob.objects.exists()


@pytest.mark.django_db
def test_generate_without_wait_only_enqueues(teacher, django_capture_on_commit_callbacks):
    ThemeFactory(name="Courage", status="approved")
    with django_capture_on_commit_callbacks() as callbacks:
        out = run("generate", "topics", "--model", "teacher-1")
    job = GenerationJob.objects.get()
    assert out == f"job {job.pk}\n" and job.status == "queued" and len(callbacks) == 1


@pytest.mark.django_db
def test_job_status_prints_json(teacher, scripted):
    ThemeFactory(name="Courage", status="approved")
    run("generate", "topics", "--model", "teacher-1", "--inline")
    job = GenerationJob.objects.get()
    data = json.loads(run("job_status", str(job.pk)))
    assert {"id", "kind", "status", "items", "errors"} <= set(data)
    assert data["items"] == {"pending": 0, "claimed": 0, "done": 1, "failed": 0}
    with pytest.raises(CommandError) as excinfo:
        run("job_status", "999999")
    assert excinfo.value.returncode == 2
