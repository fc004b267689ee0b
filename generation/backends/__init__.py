"""Model backends behind one interface (``base``): in-process transformers (``local``) and
OpenAI-compatible servers (``openai_server``)."""

from .base import (
    Backend,
    GenerationRequest,
    GenerationResult,
    OnResult,
    short_text,
    validate_base_url,
)
from .local import TransformersBackend, load_local_model
from .openai_server import OpenAIBackend

__all__ = [
    "Backend",
    "GenerationRequest",
    "GenerationResult",
    "OnResult",
    "OpenAIBackend",
    "TransformersBackend",
    "backend_for",
    "load_local_model",
    "short_text",
    "validate_base_url",
]


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
