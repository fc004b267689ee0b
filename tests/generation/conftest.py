import pytest

from generation.backends import GenerationResult
from tests.factories import ModelProfileFactory

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory):
    """A tiny random Llama model and a small BPE tokenizer with a chat template, built here."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-model")
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    corpus = ["Invent a completely new story about a dragon and a fairy.", "1. 2. 3. topics"] * 20
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<|im_start|>", "<|im_end|>"]
    )
    bpe.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", unk_token="<unk>", pad_token="<|im_end|>"
    )
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


class ScriptedBackend:
    """A stand-in model: replies come from a function of the request (for engine tests)."""

    def __init__(self, reply):
        self.reply = reply
        self.calls: list[list] = []

    def generate(self, requests, on_result=None):
        self.calls.append(requests)
        results = []
        for request in requests:
            outcome = self.reply(request)
            if isinstance(outcome, GenerationResult):
                results.append(outcome)
            else:
                results.append(
                    GenerationResult(
                        text=outcome,
                        finish_reason="stop",
                        prompt_tokens=10,
                        completion_tokens=len(outcome.split()),
                        latency_ms=5,
                        prompt_text=str(request.messages or request.prompt),
                    )
                )
        for index, result in enumerate(results):
            if on_result:
                on_result(index, result)
        return results


def user_text(request) -> str:
    return request.messages[-1]["content"] if request.messages else request.prompt


def topics_reply(request) -> str:
    theme = user_text(request).split('"')[1]
    return "Here you go:\n" + "\n".join(
        f"{n}. A tale of {theme} number {n} in the city" for n in range(1, 8)
    )


def story_reply(request) -> str:
    text = user_text(request)
    if '"' not in text:
        return "A lighthouse kept its light."
    topic = text.split('"')[1]
    return f"Once, {topic} began.\n\nIn the end, it was over."


@pytest.fixture
def scripted(monkeypatch):
    """Install a scripted backend for every profile; returns it for inspection."""
    backend = ScriptedBackend(
        lambda r: topics_reply(r) if "summary" in user_text(r) else story_reply(r)
    )
    monkeypatch.setattr("generation.services.engine.backend_for", lambda profile: backend)
    return backend


@pytest.fixture
def teacher(db):
    # A transactional test (browser tests) empties every table afterwards, the prompt
    # versions a data migration made included: put them back for the ones that follow.
    from generation.models import PromptTemplate
    from generation.prompts import DEFAULTS

    for kind, parts in DEFAULTS.items():
        PromptTemplate.objects.get_or_create(kind=kind, version=1, defaults=parts)
    return ModelProfileFactory(name="teacher-1")
