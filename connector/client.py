"""The HTTP client of the EPCC store: its token, its JSON API, and what its answers mean.

`StoreClient` gets an access token with EPCC's client_credentials grant
(`POST /oauth/access_token`), renews it before it expires and once when a
request is answered 401, and turns every answer into data or one of the errors
below. It waits out a 429 as `Retry-After` says (up to `max_wait` seconds in
all); anything else that may pass (a timeout, a refused connection, 5xx, a 429
past `max_wait`) is StoreUnavailable, for the caller to try again later.

The client secret is sent in the token request's body and nowhere else: no
message, log line or repr holds it.
"""

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils import timezone

# Renew the token this long before it expires.
TOKEN_MARGIN_SECONDS = 60
# A wait EPCC asks for (Retry-After) is honoured up to this, in all, per request.
MAX_WAIT_SECONDS = 120
USER_AGENT = "privacy-backoffice-connector"


class StoreError(Exception):
    """The store could not do what was asked."""


class StoreUnavailable(StoreError):
    """Worth trying again later: a timeout, a connection error, a 5xx, a 429 (`retry_after` seconds)."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class StoreRefused(StoreError):
    """A 4xx: the store refused the request; `errors` are the entries of EPCC's error envelope."""

    def __init__(self, status: int, errors: list[dict]):
        self.status = status
        self.errors = errors
        super().__init__(f"{status} " + "; ".join(error_text(e) for e in errors))


class StoreAuthError(StoreRefused):
    """The store refused the client credentials or the token (401/403)."""


def error_text(error: dict) -> str:
    """One entry of EPCC's error envelope as a line: title and detail, cut short."""
    title = str(error.get("title") or "").strip()
    detail = str(error.get("detail") or "").strip()
    return (f"{title}: {detail}" if title and detail else title or detail or "no detail")[:300]


def _errors_of(response: httpx.Response) -> list[dict]:
    try:
        body = response.json()
    except ValueError:
        return [{"status": response.status_code, "title": response.reason_phrase}]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and all(isinstance(e, dict) for e in errors) and errors:
        return errors
    return [{"status": response.status_code, "title": response.reason_phrase}]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - timezone.now()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class StoreSettings:
    base_url: str
    client_id: str
    client_secret: str
    timeout: float

    def __repr__(self):  # never the secret
        return f"StoreSettings(base_url={self.base_url!r}, client_id={self.client_id!r})"

    @classmethod
    def from_settings(cls) -> "StoreSettings":
        missing = [
            name
            for name in ("EPCC_API_BASE_URL", "EPCC_CLIENT_ID", "EPCC_CLIENT_SECRET")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise StoreError(f"No EPCC store is configured: set {', '.join(missing)} (docs/connector.md).")
        return cls(
            base_url=settings.EPCC_API_BASE_URL.rstrip("/"),
            client_id=settings.EPCC_CLIENT_ID,
            client_secret=settings.EPCC_CLIENT_SECRET,
            timeout=settings.EPCC_HTTP_TIMEOUT,
        )


class StoreClient:
    """One store's API, with its token. Use as a context manager, or close() it."""

    def __init__(self, store: StoreSettings, *, max_wait: float = MAX_WAIT_SECONDS, sleep=time.sleep):
        self.store = store
        self.max_wait = max_wait
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=store.base_url, timeout=store.timeout, headers={"User-Agent": USER_AGENT}
        )
        self.token: str | None = None
        self.token_expires = 0.0
        self.requests = 0

    @classmethod
    def from_settings(cls, **kwargs) -> "StoreClient":
        return cls(StoreSettings.from_settings(), **kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.http.close()

    def __repr__(self):
        return f"StoreClient({self.store.base_url!r})"

    # --- The token ---------------------------------------------------------------------------

    def authenticate(self) -> None:
        """A new access token (client_credentials); StoreAuthError when the store refuses it."""
        response = self._send(
            "POST",
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.store.client_id,
                "client_secret": self.store.client_secret,
            },
        )
        if response.status_code in (400, 401, 403):
            raise StoreAuthError(response.status_code, _errors_of(response))
        body = self._json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise StoreError("The store's token endpoint answered without an access_token.")
        lifetime = body.get("expires_in")
        expires = body.get("expires")
        now = time.time()
        if isinstance(lifetime, int | float):
            self.token_expires = now + lifetime
        elif isinstance(expires, int | float):
            self.token_expires = float(expires)
        else:
            self.token_expires = now + 3600
        self.token = token

    def _token(self) -> str:
        if self.token is None or time.time() >= self.token_expires - TOKEN_MARGIN_SECONDS:
            self.authenticate()
        return self.token

    # --- Requests ----------------------------------------------------------------------------

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._json(self._authorized("GET", path, params=params))

    def post(self, path: str, body: dict) -> dict:
        return self._json(self._authorized("POST", path, json=body))

    def _authorized(self, method: str, path: str, **kwargs) -> httpx.Response:
        renewed = False
        while True:
            headers = {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}
            response = self._send(method, path, headers=headers, **kwargs)
            if response.status_code == 401 and not renewed:
                # Expired or revoked early: one new token, one more try.
                self.token, renewed = None, True
                continue
            if response.status_code in (401, 403):
                raise StoreAuthError(response.status_code, _errors_of(response))
            if 400 <= response.status_code < 500:
                raise StoreRefused(response.status_code, _errors_of(response))
            return response

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        """One request, 429s waited out (within max_wait); transient failures as StoreUnavailable."""
        waited = 0.0
        while True:
            self.requests += 1
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TimeoutException:
                raise StoreUnavailable(f"the store did not answer {method} {_path(path)} in time") from None
            except httpx.TransportError as error:
                reason = type(error).__name__
                raise StoreUnavailable(f"could not reach the store ({reason}: {_reason(error)})") from None
            if response.status_code == 429:
                wait = _retry_after(response)
                wait = 1.0 if wait is None else wait
                if waited + wait > self.max_wait:
                    raise StoreUnavailable("the store is rate-limiting (429)", retry_after=wait)
                self.sleep(wait)
                waited += wait
                continue
            if response.status_code >= 500:
                raise StoreUnavailable(
                    f"the store answered {response.status_code} to {method} {_path(path)}",
                    retry_after=_retry_after(response),
                )
            return response

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            return response.json()
        except ValueError:
            raise StoreError(f"The store answered {response.status_code} with no JSON.") from None


def _path(path: str) -> str:
    return path.split("?", 1)[0]


def _reason(error: Exception) -> str:
    # httpx's messages name the address ("[Errno 111] Connection refused"), never a credential.
    return str(error)[:200] or "no detail"


def path_segment(value: str) -> str:
    """A value (a promotion code) as one segment of a URL path."""
    return quote(value, safe="")
