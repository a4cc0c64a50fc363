"""Logging that never carries a query string (filters can carry an email), nor an email at all,
nor a path's control characters (a CR/LF in a path would forge a log line)."""

import logging
import re
import traceback

_QUERY = re.compile(r"(\s/[^\s?\"]*)\?[^\s\"]*")
# Anything shaped like an email address, also percent-encoded (%40) as a URL path carries it.
_EMAIL = re.compile(r"[^\s/\"'<>(),;:@%]+(?:@|%40)[^\s/\"'<>(),;:@%]+\.[^\s/\"'<>(),;:@%]+", re.IGNORECASE)
EMAIL_WITHHELD = "[email withheld]"
# Characters that would end or rewrite a log line (CR, LF, other C0 and C1 controls, DEL,
# Unicode's line and paragraph separators), and the backslash that escapes them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")


def safe_path(path: str) -> str:
    """A URL path as logs may show it: control characters escaped (a CR/LF cannot forge a
    line), anything shaped like an email withheld."""
    # Emails first: a control character ends one, its escape would not.
    withheld = _EMAIL.sub(EMAIL_WITHHELD, path)
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), withheld)


class StripQueryStrings(logging.Filter):
    """Cuts query strings from log messages, and withholds anything shaped like an email.

    A request line or a "Not Found: <path>" carries whatever a client put in
    the URL, an email in a path included.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        request = getattr(record, "request", None)
        cleaned = message
        if request is not None and hasattr(request, "path"):
            record.request = _PathOnly(request)
            # Django's request logs ("Not Found: <path>") carry the path as the client sent it.
            if request.path:
                cleaned = cleaned.replace(request.path, safe_path(request.path))
        cleaned = _EMAIL.sub(EMAIL_WITHHELD, _QUERY.sub(r"\1?…", cleaned))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _PathOnly:
    """Stands in for a request in log records: its path, not its query."""

    def __init__(self, request):
        self.path = safe_path(request.path)
        self.method = getattr(request, "method", "")
        self.META = {}

    def __str__(self):
        return f"<{self.method} {self.path}>"


class WithholdExceptionMessages(logging.Filter):
    """Logs a failure's type and stack frames, never its message.

    A database error can quote the row it failed on (PostgreSQL's "Failing row
    contains (...)", "Key (email)=(...) already exists"), and any exception may
    quote a value it was given; the frames say where it happened without them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = withheld_traceback(record.exc_info[1])
            record.exc_info = None
        return True


def withheld_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and of the exceptions it was raised from, without their messages."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = type(exc)
        parts.append(
            "Traceback (most recent call last):\n"
            + "".join(traceback.format_tb(exc.__traceback__))
            + f"{kind.__module__}.{kind.__qualname__}: (message withheld: it may quote a personal value)"
        )
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nThe above was raised while handling:\n\n".join(reversed(parts))
