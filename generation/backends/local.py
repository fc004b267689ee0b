"""In-process generation with transformers: batched, left padding, CUDA and bf16 when present."""

import logging
import threading
import time

from ..parsing import clean_text
from .base import GenerationRequest, GenerationResult, OnResult, ScrubbingBackend, short_text

logger = logging.getLogger(__name__)


_LOADED: dict[tuple[str, str], tuple] = {}
_LOAD_LOCK = threading.Lock()


def load_local_model(folder: str, gguf_file: str = ""):
    """Load (once per process) a tokenizer and model from a folder or a GGUF file in it."""
    key = (str(folder), gguf_file)
    with _LOAD_LOCK:
        if key not in _LOADED:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            kwargs = {"gguf_file": gguf_file} if gguf_file else {}
            tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
            device = "cuda" if torch.cuda.is_available() else "cpu"
            if device == "cuda":
                model = model.to(device=device, dtype=torch.bfloat16)  # type: ignore[call-arg]  # transformers types Module.to as a wrapper
            model.eval()
            _LOADED[key] = (tokenizer, model, device)
        return _LOADED[key]


# Batch size on a CPU, and the bounds of one picked from GPU memory.
CPU_BATCH = 8
MAX_AUTO_BATCH = 512
# Share of free GPU memory the KV cache of one batch may take (the rest: activations, logits).
KV_SHARE = 0.5
# Prompt length assumed when sizing claims before the prompts are known.
TYPICAL_PROMPT_TOKENS = 256


def auto_batch_size(model, device: str, tokens_per_sequence: int) -> int:
    """A batch that fits the device: on CUDA, from free memory and the KV cache one sequence
    of ``tokens_per_sequence`` tokens needs; on a CPU, CPU_BATCH."""
    if device != "cuda":
        return CPU_BATCH
    import torch

    config = model.config
    layers = config.num_hidden_layers
    heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    dtype_bytes = torch.finfo(model.dtype).bits // 8
    per_sequence = 2 * layers * heads * head_dim * dtype_bytes * tokens_per_sequence
    free, _ = torch.cuda.mem_get_info()
    return max(1, min(MAX_AUTO_BATCH, int(free * KV_SHARE // max(per_sequence, 1))))


class _RowsDone:
    """A stopping criterion that never stops generation but notices, step by step, which rows
    just produced an end-of-sequence token, so their results can be recorded at once."""

    def __init__(self, eos_ids: set[int], prompt_length: int, on_done):
        self.eos = sorted(eos_ids)
        self.prompt_length = prompt_length
        self.on_done = on_done
        self.done: set[int] = set()

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        last = input_ids[:, -1]
        finished = torch.isin(last, torch.tensor(self.eos, device=last.device))
        for row in finished.nonzero().flatten().tolist():
            if row not in self.done and input_ids.shape[1] > self.prompt_length:
                self.done.add(row)
                self.on_done(row, input_ids[row, self.prompt_length :].tolist())
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


class TransformersBackend(ScrubbingBackend):
    def __init__(self, *, folder: str, gguf_file: str = "", batch_size: int = 0):
        self.folder = folder
        self.gguf_file = gguf_file
        # 0: pick it from the device (auto_batch_size).
        self.batch_size = max(0, batch_size)

    def claim_size(self, *, max_new_tokens: int) -> int:
        """How many requests to take at once: the profile's batch, or one that fits the device
        (loads the model, once per process)."""
        if self.batch_size:
            return self.batch_size
        try:
            _, model, device = load_local_model(self.folder, self.gguf_file)
        except Exception:
            return CPU_BATCH  # generate() reports the loading error on every item
        return auto_batch_size(model, device, TYPICAL_PROMPT_TOKENS + max_new_tokens)

    def render(self, tokenizer, request: GenerationRequest) -> str:
        if request.messages is not None:
            return tokenizer.apply_chat_template(
                request.messages, tokenize=False, add_generation_prompt=True
            )
        return request.prompt or ""

    def _generate(
        self, requests: list[GenerationRequest], on_result: OnResult | None
    ) -> list[GenerationResult]:
        try:
            tokenizer, model, device = load_local_model(self.folder, self.gguf_file)
        except Exception as exc:  # a missing folder or a broken file: every request fails
            message = short_text(clean_text(f"cannot load model {self.folder}: {exc}"))
            failed = [GenerationResult(error=message) for _ in requests]
            for index, result in enumerate(failed):
                if on_result:
                    on_result(index, result)
            return failed
        results: list[GenerationResult | None] = [None] * len(requests)
        texts = [self.render(tokenizer, request) for request in requests]
        lengths = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]
        # Requests with the same sampling parameters share batches; within a group, similar
        # prompt lengths go together so left padding stays small.
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.sampling_key(), []).append(index)
        for indexes in groups.values():
            indexes.sort(key=lambda i: -lengths[i])
            first = requests[indexes[0]]
            size = self.batch_size or auto_batch_size(
                model, device, lengths[indexes[0]] + first.max_new_tokens
            )
            for start in range(0, len(indexes), size):
                chunk = indexes[start : start + size]

                def report(row, result, chunk=chunk):
                    results[chunk[row]] = result
                    if on_result:
                        on_result(chunk[row], result)

                try:
                    self._generate_batch(
                        tokenizer,
                        model,
                        device,
                        [requests[i] for i in chunk],
                        [texts[i] for i in chunk],
                        report,
                    )
                except Exception as exc:
                    logger.exception("local generation failed")
                    error = short_text(clean_text(f"generation failed: {exc}"))
                    for row, index in enumerate(chunk):
                        if results[index] is None:
                            report(row, GenerationResult(error=error))
        return [r or GenerationResult(error="no result") for r in results]

    def _generate_batch(self, tokenizer, model, device, requests, texts, report):
        """Generate one batch; ``report(row, result)`` for each row as soon as it is final
        (at its end-of-sequence token, or at the end of the batch)."""
        import torch
        from transformers import StoppingCriteriaList

        first = requests[0]
        encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = {key: value.to(device) for key, value in encoded.items()}
        kwargs = {"max_new_tokens": first.max_new_tokens, "pad_token_id": tokenizer.pad_token_id}
        if first.min_new_tokens:
            kwargs["min_new_tokens"] = first.min_new_tokens
        if first.temperature > 0:
            kwargs.update(do_sample=True, temperature=first.temperature, top_p=first.top_p)
            seeds = [r.seed for r in requests if r.seed is not None]
            if seeds:
                torch.manual_seed(min(seeds))
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if first.repetition_penalty and first.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = first.repetition_penalty
        if first.no_repeat_ngram_size:
            kwargs["no_repeat_ngram_size"] = first.no_repeat_ngram_size
        prompt_length = encoded["input_ids"].shape[1]
        eos_ids = model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids])
        eos_ids.add(tokenizer.eos_token_id)
        eos_ids.discard(None)
        started = time.perf_counter()

        def result_for(row: int, new_tokens: list[int]) -> GenerationResult:
            stop_at = next((i for i, tok in enumerate(new_tokens) if tok in eos_ids), None)
            kept = new_tokens if stop_at is None else new_tokens[:stop_at]
            return GenerationResult(
                text=clean_text(tokenizer.decode(kept, skip_special_tokens=True)).strip(),
                finish_reason="length" if stop_at is None else "stop",
                prompt_tokens=int(encoded["attention_mask"][row].sum()),
                completion_tokens=len(kept) + (0 if stop_at is None else 1),
                latency_ms=int((time.perf_counter() - started) * 1000),
                prompt_text=texts[row],
            )

        rows_done = _RowsDone(
            eos_ids, prompt_length, lambda row, tokens: report(row, result_for(row, tokens))
        )
        with torch.inference_mode():
            output = model.generate(
                **encoded, **kwargs, stopping_criteria=StoppingCriteriaList([rows_done])
            )
        for row in range(len(texts)):
            if row not in rows_done.done:
                report(row, result_for(row, output[row, prompt_length:].tolist()))
