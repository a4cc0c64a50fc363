"""The API's one error envelope, and its exception handler.

Every failure of the API, whatever raised it, leaves as EPCC's envelope
``{"errors": [{"status": int, "title": str, "detail": str, "meta"?: {...}}]}``,
one entry per problem. No entry ever repeats a token, a stack trace or (in logs)
a personal value.
"""

import logging
import traceback

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import BatchRefused, PrivacyError, Problem
from core.logging import safe_path

logger = logging.getLogger("epcc.errors")

# URL prefixes whose errors are JSON; everything else keeps Django's pages.
API_PREFIXES = ("/v2/", "/oauth/")

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
SERVER_ERROR_DETAIL = "Something went wrong on our side; nothing in your request was changed."
ROUTE_NOT_FOUND_DETAIL = "There is no such endpoint."


def error_entry(status: int, detail: str, *, title: str | None = None, meta: dict | None = None) -> dict:
    entry = {"status": status, "title": title or TITLES.get(status, "Error"), "detail": str(detail)}
    if meta:
        entry["meta"] = meta
    return entry


def problem_entry(problem: Problem) -> dict:
    return error_entry(problem.status, problem.detail, title=problem.title, meta=problem.meta)


def _validation_entries(detail, source: str = "") -> list[dict]:
    """One entry per message of a (nested) ValidationError detail."""
    if isinstance(detail, dict):
        entries = []
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else ""
            entries += _validation_entries(value, f"{source}.{name}" if source and name else source or name)
        return entries
    if isinstance(detail, list):
        return [entry for item in detail for entry in _validation_entries(item, source)]
    message = str(detail)
    if source:
        return [error_entry(400, f"{source}: {message}", meta={"source": source})]
    return [error_entry(400, message)]


def _log_unexpected(exc: Exception, request) -> None:
    # Frames and the exception's type only: its message may quote a value
    # (a personal one, say), and the query string may carry an email.
    where = f"{request.method} {safe_path(request.path)}" if request is not None else "?"
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("Unhandled %s in %s\n%s", type(exc).__name__, where, frames)


def exception_handler(exc, context):
    """The one exception handler of the API: every failure as EPCC's error envelope."""
    request = context.get("request")
    headers = {}
    if isinstance(exc, BatchRefused):
        entries, status = [problem_entry(p) for p in exc.problems], exc.status
    elif isinstance(exc, PrivacyError):
        entries, status = [error_entry(exc.status, str(exc))], exc.status
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound(*exc.args)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(*exc.args)
        elif isinstance(exc, SuspiciousOperation):
            # Django's own refusals of a malformed request (too many fields, bad host, ...).
            exc = exceptions.ParseError("The request cannot be read.")
        if isinstance(exc, exceptions.APIException):
            status = exc.status_code
            if getattr(exc, "auth_header", None):
                headers["WWW-Authenticate"] = exc.auth_header
            if getattr(exc, "wait", None):
                headers["Retry-After"] = f"{int(exc.wait)}"
            if isinstance(exc, exceptions.ValidationError) or isinstance(exc.detail, dict | list):
                entries = _validation_entries(exc.detail)
            else:
                entries = [error_entry(status, str(exc.detail))]
        else:
            _log_unexpected(exc, request)
            entries, status = [error_entry(500, SERVER_ERROR_DETAIL)], 500
    set_rollback()
    return Response(
        {"errors": entries or [error_entry(status, TITLES.get(status, "Error"))]}, status, headers=headers
    )


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in ("/v2", "/oauth")


def envelope_response(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"errors": [error_entry(status, detail)]}, status=status)


@csrf_exempt
def route_not_found(request, *args, **kwargs):
    """Unknown API routes: a 404 envelope, whatever the method (no CSRF 403 page for a POST),
    also when DEBUG would show Django's page."""
    return envelope_response(404, ROUTE_NOT_FOUND_DETAIL)


def handler404(request, exception):
    if is_api_path(request.path):
        return envelope_response(404, ROUTE_NOT_FOUND_DETAIL)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if is_api_path(request.path):
        return envelope_response(500, SERVER_ERROR_DETAIL)
    return defaults.server_error(request)
