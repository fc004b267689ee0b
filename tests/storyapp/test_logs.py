import io
import logging
import sys

import pytest

from storyapp.logs import ClientErrorsInOneLine


def console_handler() -> logging.StreamHandler:
    """The app's console handler on Django's logger (the test run adds its own beside it)."""
    ours = [
        h
        for h in logging.getLogger("django").handlers
        if any(isinstance(f, ClientErrorsInOneLine) for f in h.filters)
    ]
    assert len(ours) == 1, logging.getLogger("django").handlers
    assert not logging.getLogger("django").propagate  # not written again by the root's
    return ours[0]  # type: ignore[return-value]


@pytest.mark.django_db
def test_a_403_is_logged_as_one_line_without_its_traceback(reviewer_client):
    handler = console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = reviewer_client.get("/jobs/")
    finally:
        handler.setStream(previous)
    assert response.status_code == 403
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "Forbidden" in lines[0] and "/jobs/" in lines[0]


def test_a_server_error_keeps_its_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    for status, kept in ((500, True), (404, False)):
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "x", None, exc_info
        )
        record.status_code = status
        assert ClientErrorsInOneLine().filter(record)
        assert (record.exc_info is not None) is kept
