"""Middleware guarding every interface at once: NUL characters."""

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpResponseBadRequest
from django.utils.html import escape

from epcc.errors import envelope_response, is_api_path
from epcc.parsers import NUL_DETAIL

NUL = "\x00"
# Their query and form values reach forms that answer a NUL with a form error of their own
# (Django's CharField refuses it); only their path is checked here.
FORM_PAGES = ("/privacy/",)

NUL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad request</title></head>
<body><h1>Bad request</h1><p>{detail}</p><p><a href="javascript:history.back()">Go back</a></p></body></html>
"""


def has_nul(values) -> bool:
    """True when any key or value of a QueryDict holds a NUL character."""
    return any(NUL in key or any(NUL in value for value in values[key]) for key in values)


class RefuseNulCharacters:
    """A NUL (%00) in a request's path, query or form answers 400 before anything reads it.

    PostgreSQL refuses NUL in text (psycopg raises DataError), so any value
    holding one that reached a query would fail it as a 500. The API answers
    its 400 envelope, other pages a short 400 page; the privacy pages' query
    and form values are left to their forms, which show a form error. The API's
    bodies are checked where it reads them (epcc/parsers.py, epcc/oauth.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._refused(request):
            if is_api_path(request.path):
                return envelope_response(400, NUL_DETAIL)
            return HttpResponseBadRequest(NUL_PAGE.format(detail=escape(NUL_DETAIL)))
        return self.get_response(request)

    @staticmethod
    def _refused(request) -> bool:
        if NUL in request.path:
            return True
        if request.path.startswith(FORM_PAGES):
            return False
        try:
            if has_nul(request.GET):
                return True
            # The API reads its bodies itself (epcc/parsers.py, the token endpoint's fields).
            return request.method == "POST" and not is_api_path(request.path) and has_nul(request.POST)
        except (BadRequest, SuspiciousOperation):
            return False  # unreadable (too many fields, a broken form): the view answers it as ever
