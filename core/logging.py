"""Logging that never carries a query string (filters can carry an email)."""

import logging
import re

_QUERY = re.compile(r"(\s/[^\s?\"]*)\?[^\s\"]*")


class StripQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            record.request = _PathOnly(request)
        message = record.getMessage()
        cleaned = _QUERY.sub(r"\1?…", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _PathOnly:
    """Stands in for a request in log records: its path, not its query."""

    def __init__(self, request):
        self.path = request.path
        self.method = getattr(request, "method", "")
        self.META = {}

    def __str__(self):
        return f"<{self.method} {self.path}>"
