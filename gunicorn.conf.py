"""gunicorn's configuration for the back-office: `gunicorn -c gunicorn.conf.py`.

(gunicorn also reads this file by itself when started from this folder.) Its
access log never holds a query string (filters and searches carry emails), an
email in a path or a Referer, a cookie or a token:

- the request line, the path (%(U)s) and the Referer (%(f)s) lose their query
  (shown as `?…`) and have anything shaped like an email withheld, control
  characters escaped (core/logging.py `safe_path`, as in the app's own logs);
- %(q)s (the query) is never filled in, nor the environ's `{...}e` atoms;
- of the request and response headers (`{name}i`, `{name}o`) only those
  in SAFE_HEADERS, made safe the same way.

Environment: GUNICORN_ACCESS_LOG (default `-`, stdout; a file path, or empty for no
access log). Workers, bind and the rest: gunicorn's own flags and variables
(WEB_CONCURRENCY, GUNICORN_CMD_ARGS, ...).
"""

import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core.logging import safe_path  # noqa: E402 (after the project is on the path)

wsgi_app = "backoffice.wsgi:application"
# gunicorn's control socket has one default path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers on one machine (a test run, `make bench`) would take it from each other. Off.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# The common "combined" format: address, time, request line, status, size, Referer, user agent.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

SAFE_HEADERS = {"user-agent", "content-type", "content-length", "x-request-id", "x-forwarded-for", "host"}


def without_query(url: str) -> str:
    """A URL or path with its query cut (`?…` marks it), emails withheld, controls escaped."""
    url, mark, _query = url.partition("?")
    return safe_path(url) + ("?…" if mark else "")


class AccessLogger(Logger):
    """gunicorn's logger, whose access log atoms hold no query string, email or secret."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        safe = {
            name: value
            for name, value in atoms.items()
            if not name.startswith("{") or (name[-2:] in ("}i", "}o") and name[1:-2] in SAFE_HEADERS)
        }
        safe.pop("q", None)
        safe["r"] = f"{environ['REQUEST_METHOD']} {without_query(path)} {environ['SERVER_PROTOCOL']}"
        safe["U"] = safe_path(environ.get("PATH_INFO", ""))
        referer = environ.get("HTTP_REFERER")
        safe["f"] = without_query(referer) if referer else "-"
        for name in [name for name in safe if name.startswith("{")]:
            safe[name] = without_query(str(safe[name]))
        return safe


logger_class = AccessLogger
