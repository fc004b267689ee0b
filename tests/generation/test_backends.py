import pytest
from django.core.exceptions import ValidationError

from generation.backends import (
    GenerationRequest,
    OpenAIBackend,
    TransformersBackend,
    validate_base_url,
)

MESSAGES = [
    [{"role": "user", "content": "Invent a story about a dragon"}],
    [{"role": "system", "content": "You tell stories."}, {"role": "user", "content": "A fairy"}],
    [{"role": "user", "content": "topics 1. 2. 3. about a completely new dragon fairy story"}],
]


def greedy(messages, tokens=12):
    return GenerationRequest(messages=messages, max_new_tokens=tokens, temperature=0.0)


def test_batched_generation_with_left_padding_matches_one_at_a_time(tiny_model_folder):
    batched = TransformersBackend(folder=str(tiny_model_folder), batch_size=8)
    single = TransformersBackend(folder=str(tiny_model_folder), batch_size=1)
    requests = [greedy(m) for m in MESSAGES]

    together = batched.generate(requests)
    alone = single.generate(requests)

    assert [r.text for r in together] == [r.text for r in alone]
    assert all(r.ok for r in together)
    # Prompts of different lengths: the token counts are the real (unpadded) ones.
    assert len({r.prompt_tokens for r in together}) == 3
    assert [r.prompt_tokens for r in together] == [r.prompt_tokens for r in alone]
    for result in together:
        assert result.finish_reason in ("stop", "length")
        assert result.completion_tokens <= 12
        assert result.prompt_text.endswith("<|im_start|>assistant\n")


def test_length_finish_reason_when_the_token_limit_is_hit(tiny_model_folder):
    backend = TransformersBackend(folder=str(tiny_model_folder))
    [result] = backend.generate([greedy(MESSAGES[0], tokens=3)])
    # A random model almost never emits EOS within three tokens.
    assert result.finish_reason == "length" and result.completion_tokens == 3


def test_raw_prompt_is_used_verbatim(tiny_model_folder):
    backend = TransformersBackend(folder=str(tiny_model_folder))
    raw = "[INST]:<<SYS>>You tell stories.<<SYS>> a dragon [/INST]"
    [result] = backend.generate([GenerationRequest(prompt=raw, max_new_tokens=4, temperature=0)])
    assert result.prompt_text == raw and result.ok


def test_seeded_sampling_is_reproducible(tiny_model_folder):
    backend = TransformersBackend(folder=str(tiny_model_folder))
    request = GenerationRequest(
        messages=MESSAGES[0], max_new_tokens=10, temperature=1.0, top_p=0.9, seed=7
    )
    assert backend.generate([request])[0].text == backend.generate([request])[0].text


def test_a_missing_model_folder_fails_every_request_without_raising(tmp_path):
    backend = TransformersBackend(folder=str(tmp_path / "nothing"))
    results = backend.generate([greedy(MESSAGES[0]), greedy(MESSAGES[1])])
    assert [r.ok for r in results] == [False, False]
    assert "cannot load model" in results[0].error


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://10.0.0.5:8000/v1", "base_url_not_allowed"),
        ("https://api.example.com/v1", "base_url_not_allowed"),
        ("ftp://127.0.0.1/v1", "base_url_invalid"),
        ("127.0.0.1:8000", "base_url_invalid"),
    ],
)
def test_base_urls_outside_the_allowlist_are_refused(url, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_base_url(url)
    assert excinfo.value.code == code


def test_loopback_base_urls_are_allowed_by_default():
    for url in ("http://127.0.0.1:8000/v1", "http://localhost/v1", "http://[::1]:9/v1"):
        validate_base_url(url)


def test_a_missing_api_key_variable_is_a_readable_error(monkeypatch):
    monkeypatch.delenv("STORYAPP_KEY_TEST", raising=False)
    backend = OpenAIBackend(
        base_url="http://127.0.0.1:9/v1", model="m", api_key_env="STORYAPP_KEY_TEST"
    )
    [result] = backend.generate([greedy(MESSAGES[0])])
    assert result.error == "environment variable STORYAPP_KEY_TEST is not set"


def test_min_new_tokens_gives_fixed_length_outputs(tiny_model_folder):
    backend = TransformersBackend(folder=str(tiny_model_folder), batch_size=4)
    requests = [
        GenerationRequest(messages=m, max_new_tokens=6, min_new_tokens=6, temperature=0)
        for m in MESSAGES
    ]
    assert [r.completion_tokens for r in backend.generate(requests)] == [6, 6, 6]


def test_the_local_backend_reports_every_result_as_it_is_ready(tiny_model_folder):
    backend = TransformersBackend(folder=str(tiny_model_folder), batch_size=2)
    requests = [
        GenerationRequest(
            messages=[{"role": "user", "content": "dragon " * n}], max_new_tokens=6, temperature=0
        )
        for n in (1, 9, 3)
    ]
    reported = []
    results = backend.generate(requests, on_result=lambda i, r: reported.append((i, r.text)))
    assert sorted(reported) == [(i, r.text) for i, r in enumerate(results)]
    # batches are made of similar prompt lengths: the longest two first
    assert [i for i, _ in reported][:2] in ([1, 2], [2, 1])


def test_an_automatic_batch_fits_free_gpu_memory(monkeypatch):
    import torch
    from transformers import LlamaConfig

    from generation.backends.local import CPU_BATCH, MAX_AUTO_BATCH, auto_batch_size

    class Model:
        config = LlamaConfig(
            hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4
        )
        dtype = torch.bfloat16

    assert auto_batch_size(Model(), "cpu", 1000) == CPU_BATCH
    # KV cache per token: 2 (k, v) x 22 layers x 4 heads x 64 dims x 2 bytes = 22,528 bytes
    per_sequence = 22_528 * 384
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (40 * per_sequence, 80 << 30))
    assert auto_batch_size(Model(), "cuda", 384) == 20  # half of free memory for the cache
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (140 << 30, 141 << 30))
    assert auto_batch_size(Model(), "cuda", 384) == MAX_AUTO_BATCH


def test_requests_with_different_seeds_share_a_batch(tiny_model_folder, monkeypatch):
    from generation.backends import local

    backend = TransformersBackend(folder=str(tiny_model_folder), batch_size=8)
    batches = []
    real = local.TransformersBackend._generate_batch

    def spy(self, tokenizer, model, device, requests, texts, report):
        batches.append(len(requests))
        return real(self, tokenizer, model, device, requests, texts, report)

    monkeypatch.setattr(local.TransformersBackend, "_generate_batch", spy)
    requests = [
        GenerationRequest(messages=MESSAGES[0], max_new_tokens=4, temperature=1.0, seed=seed)
        for seed in range(6)
    ]
    first = [r.text for r in backend.generate(requests)]
    assert batches == [6]  # one batch, not six
    assert [r.text for r in backend.generate(requests)] == first  # still reproducible
