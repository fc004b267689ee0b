"""The backend interface: a list of requests in, a list of results out.

``generate`` never raises for a failed request: the failure is in that result's ``error``, so
one bad reply cannot sink a batch and the worker never crashes on a server's misbehaviour.
``on_result(index, result)``, when given, is called as each result is ready (in the calling
thread), so a job can record items as they finish rather than a batch at a time.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from storyapp.redaction import API_KEY_ENV_HELP, scrub

from ..parsing import clean_text

OnResult = Callable[[int, "GenerationResult"], None]


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
    # Repetition control: transformers (1.0 / 0 = off) and OpenAI-compatible servers (0 = off).
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0

    def sampling_key(self) -> tuple:
        """Requests with equal keys can share a batch (transformers samples a batch at once).
        The seed is not part of it: a batch draws from one random stream, seeded with the
        smallest seed of its requests, so the same requests give the same texts."""
        return (
            self.max_new_tokens,
            self.min_new_tokens,
            self.temperature,
            self.top_p,
            self.repetition_penalty,
            self.no_repeat_ngram_size,
        )


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
    # The reply was longer than STORYAPP_MAX_TEXT_CHARS and was cut there (never stored whole).
    cut_at_bound: bool = False

    @property
    def ok(self) -> bool:
        return not self.error

    def sanitized(self, *, also: tuple[str, ...] = ()) -> "GenerationResult":
        """The result with every string a model (or its server) wrote made safe to store,
        whatever the reply's status: control characters dropped (NUL breaks PostgreSQL), keys
        (the configured key variables' values, ``also``) and token-shaped strings scrubbed from
        the text, the finish reason and the error; the text bounded by STORYAPP_MAX_TEXT_CHARS
        (cut there, flagged, and its finish reason ``length``: it did not end). Idempotent."""
        bound = settings.STORYAPP_MAX_TEXT_CHARS
        text = scrub(clean_text(self.text), also=also)
        cut = self.cut_at_bound or len(text) > bound
        finish_reason = short_text(scrub(clean_text(self.finish_reason), also=also), 32)
        return replace(
            self,
            text=text[:bound].rstrip() if len(text) > bound else text,
            cut_at_bound=cut,
            finish_reason="length" if cut else finish_reason,
            prompt_text=scrub(clean_text(self.prompt_text), also=also),
            error=short_text(scrub(clean_text(self.error), also=also), 2000) if self.error else "",
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


def short_text(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Backend(Protocol):
    def generate(
        self, requests: list[GenerationRequest], on_result: OnResult | None = None
    ) -> list[GenerationResult]: ...


class ScrubbingBackend:
    """The boundary every backend sits behind: ``generate`` hands each result to the caller
    only after ``GenerationResult.sanitized`` (keys scrubbed, control characters dropped,
    length bounded), for a reply of any status, so no caller can store a raw one. Backends
    implement ``_generate`` and name any key they hold in ``_secrets``."""

    def _secrets(self) -> tuple[str, ...]:
        return ()

    def _generate(
        self, requests: list[GenerationRequest], on_result: OnResult | None
    ) -> list[GenerationResult]:
        raise NotImplementedError

    def generate(
        self, requests: list[GenerationRequest], on_result: OnResult | None = None
    ) -> list[GenerationResult]:
        clean: dict[int, GenerationResult] = {}

        def report(index: int, result: GenerationResult) -> None:
            clean[index] = result.sanitized(also=self._secrets())
            if on_result:
                on_result(index, clean[index])

        raw = self._generate(requests, report)
        return [
            clean[i] if i in clean else result.sanitized(also=self._secrets())
            for i, result in enumerate(raw)
        ]
