"""Model backends behind one interface: a list of requests in, a list of results out.

``generate`` never raises for a failed request: the failure is in that result's ``error``, so
one bad reply cannot sink a batch and the worker never crashes on a server's misbehaviour.
"""

import json
import logging
import os
import re
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from storyapp.redaction import API_KEY_ENV_HELP, api_key_env_allowed, scrub

from .parsing import clean_text

logger = logging.getLogger(__name__)


@dataclass
class GenerationRequest:
    """Chat ``messages``, or a raw ``prompt`` for completion-style models."""

    messages: list[dict] | None = None
    prompt: str | None = None
    max_new_tokens: int = 256
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int | None = None
    # Generate at least this many tokens (benchmarks compare fixed-length outputs).
    min_new_tokens: int | None = None
    # Server-specific request fields for the openai backend (e.g. vLLM's min_tokens).
    extra_body: dict | None = None

    def sampling_key(self) -> tuple:
        return (self.max_new_tokens, self.min_new_tokens, self.temperature, self.top_p, self.seed)


@dataclass
class GenerationResult:
    text: str = ""
    finish_reason: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: int = 0
    # The exact prompt as the model saw it (chat template applied), when the backend knows it.
    prompt_text: str = ""
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error

    def sanitized(self) -> "GenerationResult":
        """The result with every string a model (or its server) wrote made safe to store:
        control characters dropped (NUL breaks PostgreSQL), keys and tokens scrubbed from
        errors, the finish reason bounded."""
        return replace(
            self,
            text=clean_text(self.text),
            finish_reason=short_text(clean_text(self.finish_reason), 32),
            error=short_text(scrub(clean_text(self.error)), 2000) if self.error else "",
        )


def validate_base_url(url: str) -> None:
    """Only http(s) URLs whose host is on the STORYAPP_MODEL_HOSTS allowlist, with no user
    name or password in them and no control characters (urlsplit drops CR/LF silently)."""
    if any(unicodedata.category(char) == "Cc" for char in url):
        raise ValidationError(
            "The base URL contains a control character (such as a line break).",
            code="base_url_invalid",
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        raise ValidationError("The base URL is malformed.", code="base_url_invalid") from None
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "The base URL must not carry a user name or password; put the key in an "
            "environment variable named %(pattern)s.",
            code="base_url_userinfo",
            params={"pattern": API_KEY_ENV_HELP},
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            "The base URL must be an http(s) URL, e.g. http://127.0.0.1:8080/v1.",
            code="base_url_invalid",
        )
    allowed = settings.STORYAPP_MODEL_HOSTS
    if parts.hostname not in allowed:
        raise ValidationError(
            "Host %(host)s is not on the model host allowlist (STORYAPP_MODEL_HOSTS: %(allowed)s).",
            code="base_url_not_allowed",
            params={"host": parts.hostname, "allowed": ", ".join(allowed)},
        )


# --- transformers ---------------------------------------------------------------------------

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
                model = model.to(device=device, dtype=torch.bfloat16)
            model.eval()
            _LOADED[key] = (tokenizer, model, device)
        return _LOADED[key]


class TransformersBackend:
    def __init__(self, *, folder: str, gguf_file: str = "", batch_size: int = 8):
        self.folder = folder
        self.gguf_file = gguf_file
        self.batch_size = max(1, batch_size)

    def render(self, tokenizer, request: GenerationRequest) -> str:
        if request.messages is not None:
            return tokenizer.apply_chat_template(
                request.messages, tokenize=False, add_generation_prompt=True
            )
        return request.prompt or ""

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        try:
            tokenizer, model, device = load_local_model(self.folder, self.gguf_file)
        except Exception as exc:  # a missing folder or a broken file: every request fails
            message = short_text(clean_text(f"cannot load model {self.folder}: {exc}"))
            return [GenerationResult(error=message) for _ in requests]
        results: list[GenerationResult | None] = [None] * len(requests)
        # Requests with the same sampling parameters share batches.
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.sampling_key(), []).append(index)
        for indexes in groups.values():
            for start in range(0, len(indexes), self.batch_size):
                chunk = indexes[start : start + self.batch_size]
                try:
                    batch = self._generate_batch(
                        tokenizer, model, device, [requests[i] for i in chunk]
                    )
                except Exception as exc:
                    logger.exception("local generation failed")
                    error = short_text(clean_text(f"generation failed: {exc}"))
                    batch = [GenerationResult(error=error) for _ in chunk]
                for i, result in zip(chunk, batch, strict=True):
                    results[i] = result
        return results

    def _generate_batch(self, tokenizer, model, device, requests):
        import torch

        first = requests[0]
        texts = [self.render(tokenizer, request) for request in requests]
        encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = {key: value.to(device) for key, value in encoded.items()}
        kwargs = {"max_new_tokens": first.max_new_tokens, "pad_token_id": tokenizer.pad_token_id}
        if first.min_new_tokens:
            kwargs["min_new_tokens"] = first.min_new_tokens
        if first.temperature > 0:
            kwargs.update(do_sample=True, temperature=first.temperature, top_p=first.top_p)
            if first.seed is not None:
                torch.manual_seed(first.seed)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**encoded, **kwargs)
        latency_ms = int((time.perf_counter() - started) * 1000)
        prompt_length = encoded["input_ids"].shape[1]
        eos_ids = model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids])
        eos_ids.add(tokenizer.eos_token_id)
        results = []
        for row, text in enumerate(texts):
            new_tokens = output[row, prompt_length:].tolist()
            stop_at = next((i for i, tok in enumerate(new_tokens) if tok in eos_ids), None)
            kept = new_tokens if stop_at is None else new_tokens[:stop_at]
            results.append(
                GenerationResult(
                    text=clean_text(tokenizer.decode(kept, skip_special_tokens=True)).strip(),
                    finish_reason="length" if stop_at is None else "stop",
                    prompt_tokens=int(encoded["attention_mask"][row].sum()),
                    completion_tokens=len(kept) + (0 if stop_at is None else 1),
                    latency_ms=latency_ms,
                    prompt_text=text,
                )
            )
        return results


# --- OpenAI-compatible servers --------------------------------------------------------------


class OpenAIBackend:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str = "",
        concurrency: int = 4,
        timeout: float | None = None,
        max_retries: int | None = None,
    ):
        validate_base_url(base_url)
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.concurrency = max(1, concurrency)
        self.timeout = timeout if timeout is not None else settings.STORYAPP_HTTP_TIMEOUT
        self.max_retries = (
            max_retries if max_retries is not None else settings.STORYAPP_HTTP_MAX_RETRIES
        )
        self._client = None
        self._key = ""

    def client(self):
        if self._client is None:
            from openai import DefaultHttpxClient, OpenAI

            key = "none"
            if self.api_key_env:
                if not api_key_env_allowed(self.api_key_env):
                    raise RuntimeError(
                        f"the key variable {self.api_key_env} is not allowed; name it "
                        f"{API_KEY_ENV_HELP}"
                    )
                key = os.environ.get(self.api_key_env, "")
                if not key:
                    raise RuntimeError(f"environment variable {self.api_key_env} is not set")
            self._key = key
            self._client = OpenAI(
                base_url=self.base_url,
                api_key=key,
                max_retries=self.max_retries,
                timeout=self.timeout,
                # Redirects could carry the key to another host: never follow them.
                http_client=DefaultHttpxClient(follow_redirects=False, timeout=self.timeout),
            )
        return self._client

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, request: GenerationRequest) -> GenerationResult:
        import openai

        started = time.perf_counter()
        params = {
            "model": self.model,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.seed is not None:
            params["seed"] = request.seed
        if request.extra_body:
            params["extra_body"] = request.extra_body
        prompt_text = (
            json.dumps(request.messages, ensure_ascii=False)
            if request.messages is not None
            else request.prompt or ""
        )
        try:
            client = self.client()
            if request.messages is not None:
                response = client.chat.completions.create(messages=request.messages, **params)
            else:
                response = client.completions.create(prompt=request.prompt or "", **params)
            choices = getattr(response, "choices", None)
            if not choices:
                raise ValueError("the server returned no choices")
            choice = choices[0]
            text = choice.message.content if request.messages is not None else choice.text
            if text is None:
                raise ValueError("the server returned an empty message")
            usage = getattr(response, "usage", None)
            return GenerationResult(
                text=clean_text(text).strip(),
                finish_reason=self._untrusted(choice.finish_reason or "", 32),
                prompt_tokens=getattr(usage, "prompt_tokens", None),
                completion_tokens=getattr(usage, "completion_tokens", None),
                latency_ms=int((time.perf_counter() - started) * 1000),
                prompt_text=prompt_text,
            )
        except openai.APIStatusError as exc:
            # The SDK prefixes "Error code: N - "; the status is already in our message.
            detail = re.sub(r"^Error code: \d+ - ", "", str(exc.message))
            error = f"HTTP {exc.status_code} from the model server: {self._untrusted(detail)}"
        except openai.APITimeoutError:
            error = f"the model server did not answer within {self.timeout:g} s"
        except openai.APIConnectionError as exc:
            error = f"cannot reach the model server: {self._untrusted(exc.__cause__ or exc)}"
        except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError) as exc:
            error = f"malformed reply from the model server: {self._untrusted(exc)}"
        except RuntimeError as exc:
            error = self._untrusted(exc)
        except Exception as exc:  # anything else the SDK or the network throws: one item fails
            logger.warning("model request failed", exc_info=True)
            error = f"the request failed: {self._untrusted(exc)}"
        return GenerationResult(
            error=error,
            latency_ms=int((time.perf_counter() - started) * 1000),
            prompt_text=prompt_text,
        )

    def _untrusted(self, text, limit: int = 300) -> str:
        """Server text made safe to store and show: control characters (NUL breaks
        PostgreSQL) dropped, keys and tokens scrubbed, whitespace folded, length bounded."""
        return short_text(scrub(clean_text(str(text)), also=(self._key,)), limit)


def short_text(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def backend_for(profile):
    """The backend object for a model profile (the local model itself is cached per process)."""
    if profile.backend == profile.Backend.TRANSFORMERS:
        return TransformersBackend(
            folder=profile.model, gguf_file=profile.gguf_file, batch_size=profile.batch_size
        )
    return OpenAIBackend(
        base_url=profile.base_url,
        model=profile.model,
        api_key_env=profile.api_key_env,
        concurrency=profile.concurrency,
    )
