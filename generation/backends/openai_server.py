"""Any OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama, transformers serve) through the
openai SDK: bounded concurrency, retries honouring Retry-After, timeouts, no redirects."""

import json
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from openai import OpenAI

from storyapp.redaction import API_KEY_ENV_HELP, api_key_env_allowed, scrub

from ..parsing import clean_text
from .base import (
    GenerationRequest,
    GenerationResult,
    OnResult,
    ScrubbingBackend,
    short_text,
    validate_base_url,
)

logger = logging.getLogger(__name__)


class OpenAIBackend(ScrubbingBackend):
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
        self._client: OpenAI | None = None
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

    def _secrets(self) -> tuple[str, ...]:
        return (self._key,) if self._key and self._key != "none" else ()

    def _generate(
        self, requests: list[GenerationRequest], on_result: OnResult | None
    ) -> list[GenerationResult]:
        """Up to ``concurrency`` requests in flight; each result is reported (in this thread)
        as soon as its reply is in."""
        results: list[GenerationResult | None] = [None] * len(requests)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self._one, request): i for i, request in enumerate(requests)}
            for future in as_completed(futures):
                index = futures[future]
                result = results[index] = future.result()
                if on_result:
                    on_result(index, result)
        return [r or GenerationResult(error="no reply") for r in results]

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
        if request.frequency_penalty:
            params["frequency_penalty"] = request.frequency_penalty
        if request.presence_penalty:
            params["presence_penalty"] = request.presence_penalty
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
