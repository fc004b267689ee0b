"""Log filters of the app's console handler (see LOGGING in settings)."""

import logging


class ClientErrorsInOneLine(logging.Filter):
    """A 4xx answer (a 403 for a page the role may not see, a 404) is logged as one line: the
    traceback of a PermissionDenied raised on purpose says nothing, and filled the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
