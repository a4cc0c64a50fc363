"""Middleware guarding every interface at once: NUL characters, and queries in login redirects."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse

from epcc.errors import envelope_response, is_api_path

NUL = "\x00"
# PostgreSQL refuses NUL in text, so no value holding one can be looked up or stored.
NUL_DETAIL = (
    "The request contains a NUL character (%00), which no value may hold; nothing was read or changed."
)
# Their query and form values reach forms that answer a NUL with a form error of their own
# (Django's CharField refuses it); only their path is checked here.
FORM_PAGES = ("/privacy/",)


def has_nul(values) -> bool:
    """True when any key or value of a QueryDict holds a NUL character."""
    return any(NUL in key or any(NUL in value for value in values[key]) for key in values)


class RefuseNulCharacters:
    """A NUL (%00) in a request's path, cookies, query or form answers 400 before anything reads it.

    PostgreSQL refuses NUL in text (psycopg raises DataError), so any value
    holding one that reached a query would fail it as a 500. The API answers
    its 400 envelope, other pages a short 400 page; the privacy pages' query
    and form values are left to their forms, which show a form error. The API's
    bodies are left to its views: their values are UUIDs, a key id and a hashed
    secret, which a NUL makes invalid or unknown (a 400 or 401 envelope).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._refused(request):
            if is_api_path(request.path):
                return envelope_response(400, NUL_DETAIL)
            return render(request, "400.html", {"detail": NUL_DETAIL}, status=400)
        return self.get_response(request)

    @staticmethod
    def _refused(request) -> bool:
        # A cookie's quoted value may spell NUL as an octal escape ("\\000"); the session
        # cookie's value is looked up in the database.
        if NUL in request.path or any(NUL in value for value in request.COOKIES.values()):
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


class LoginRedirectWithoutQuery:
    """A redirect to a login page keeps `next=` to the page, never its query.

    A search's query carries an email (`/privacy/people/?q=...`, the admin's
    `?q=`); in `next=` it would land in the login page's URL, and so in access
    logs, browser history and Referer headers. After logging in, the page opens
    without its search.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 302 and response.has_header("Location"):
            response["Location"] = login_location_without_query(response["Location"])
        return response


def login_location_without_query(location: str) -> str:
    url = urlsplit(location)
    if url.path not in (settings.LOGIN_URL, reverse("admin:login")):
        return location
    query = QueryDict(url.query, mutable=True)
    if "?" not in query.get(REDIRECT_FIELD_NAME, ""):
        return location
    query[REDIRECT_FIELD_NAME] = query[REDIRECT_FIELD_NAME].partition("?")[0]
    return urlunsplit(url._replace(query=query.urlencode(safe="/")))
