import logging

import pytest

from storyapp.redaction import RedactingFilter, api_key_env_allowed, scrub


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("STORYAPP_KEY_TEACHER", True),
        ("TEACHER_API_KEY", True),
        ("OPENAI_API_KEY", True),
        ("PATH", False),
        ("SECRET_KEY", False),
        ("DATABASE_URL", False),
        ("HOME", False),
        ("teacher_api_key", False),
        ("STORYAPP_KEY_", False),
    ],
)
def test_only_dedicated_variable_names_may_hold_a_key(name, allowed):
    assert api_key_env_allowed(name) is allowed


def test_scrub_removes_key_values_and_token_shapes(monkeypatch):
    monkeypatch.setenv("TEACHER_API_KEY", "s3cr3t-value-42")
    text = (
        "401: bad credentials: Bearer s3cr3t-value-42; also Authorization: Bearer abc.def "
        "and api_key=zzz999 and sk-live1234567890 and the raw s3cr3t-value-42"
    )
    clean = scrub(text)
    for secret in ("s3cr3t-value-42", "abc.def", "zzz999", "sk-live1234567890"):
        assert secret not in clean
    assert clean.count("[redacted]") == 5
    assert scrub("an ordinary sentence about keys") == "an ordinary sentence about keys"


def test_log_records_are_scrubbed_messages_and_tracebacks(monkeypatch):
    monkeypatch.setenv("STORYAPP_KEY_X", "abcdef123456")
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "sent %s", ("abcdef123456",), None)
    try:
        raise RuntimeError("Bearer abcdef123456 refused")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "abcdef123456" not in text and "[redacted]" in text
