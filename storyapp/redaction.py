"""Keeping model-server keys out of everything the app stores, shows or logs.

Keys live only in environment variables with a dedicated name (``STORYAPP_KEY_<NAME>`` or
``<NAME>_API_KEY``), so a profile can never send ``SECRET_KEY``, ``DATABASE_URL`` or ``PATH`` to a
server, and the values of exactly those variables are what ``scrub`` removes, together with
anything shaped like a bearer token or an OpenAI-style key.
"""

import logging
import os
import re
import traceback

API_KEY_ENV = re.compile(r"^(?:STORYAPP_KEY_[A-Z0-9_]+|[A-Z][A-Z0-9_]*_API_KEY)$")
API_KEY_ENV_HELP = "STORYAPP_KEY_<NAME> or <NAME>_API_KEY (capitals, digits, _)"
REDACTED = "[redacted]"
_TOKEN_SHAPES = re.compile(
    r"(?i)(?P<head>(?:api[_-]?key|authorization|x-api-key)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?"
    r"|bearer\s+)"
    r"[^\s\"',;]+"
    r"|\bsk-[A-Za-z0-9_\-]{8,}"
)
# Shorter values are too likely to appear in ordinary text to be replaced everywhere.
_MIN_SECRET_LENGTH = 6


def api_key_env_allowed(name: str) -> bool:
    return bool(API_KEY_ENV.match(name))


def secret_values() -> list[str]:
    """The values of every environment variable that may hold a model-server key."""
    values = {
        value
        for name, value in os.environ.items()
        if API_KEY_ENV.match(name) and len(value) >= _MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)


def scrub(text: str, *, also: tuple[str, ...] = ()) -> str:
    """``text`` with key values (and ``also``) and token-shaped strings replaced by [redacted]."""
    if not text:
        return text
    for value in sorted({*secret_values(), *(v for v in also if v)}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return _TOKEN_SHAPES.sub(lambda match: (match.group("head") or "") + REDACTED, text)


class RedactingFilter(logging.Filter):
    """A log filter that scrubs every record's message (and its traceback) before output."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # The formatter uses exc_text when it is set: give it the scrubbed traceback.
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = scrub(text).rstrip("\n")
        return True
