"""connector.client against real HTTP servers: the store instance (tokens) and a small scripted
server for what a healthy store does not do on demand (429, 5xx)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connector.client import (
    StoreAuthError,
    StoreClient,
    StoreError,
    StoreRefused,
    StoreSettings,
    StoreUnavailable,
)


class Scripted(BaseHTTPRequestHandler):
    """Answers each GET with the next (status, headers, body) of the server's script."""

    def do_POST(self):  # the token endpoint
        self.server.seen.append(("POST", self.path, None))
        self._answer(200, {}, {"access_token": f"at_{len(self.server.seen)}", "expires_in": 3600})

    def do_GET(self):
        self.server.seen.append(("GET", self.path, self.headers.get("Authorization")))
        status, headers, body = self.server.script.pop(0)
        self._answer(status, headers, body)

    def _answer(self, status, headers, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.script, server.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_of(server, sleeps: list, max_wait: float = 120) -> StoreClient:
    store = StoreSettings(f"http://127.0.0.1:{server.server_port}", "1", "secret", timeout=5)
    return StoreClient(store, max_wait=max_wait, sleep=sleeps.append)


def test_a_429_waits_as_retry_after_says_then_goes_on(scripted):
    scripted.script = [(429, {"Retry-After": "3"}, {"errors": []}), (200, {}, {"data": []})]
    sleeps = []
    with client_of(scripted, sleeps) as client:
        assert client.get("/v2/orders") == {"data": []}
    assert sleeps == [3.0]
    assert [s[0] for s in scripted.seen] == ["POST", "GET", "GET"]


def test_a_429_past_the_longest_wait_is_unavailable_with_its_retry_after(scripted):
    scripted.script = [(429, {"Retry-After": "600"}, {"errors": []})]
    sleeps = []
    with client_of(scripted, sleeps, max_wait=60) as client, pytest.raises(StoreUnavailable) as error:
        client.get("/v2/orders")
    assert error.value.retry_after == 600 and sleeps == []


def test_a_5xx_is_unavailable_and_a_4xx_refused_with_epccs_errors(scripted):
    envelope = {
        "errors": [{"status": 422, "title": "Could not anonymize orders", "detail": "Order has status"}]
    }
    scripted.script = [(503, {}, {}), (422, {}, envelope)]
    with client_of(scripted, []) as client:
        with pytest.raises(StoreUnavailable, match="503"):
            client.get("/v2/orders")
        with pytest.raises(StoreRefused) as refused:
            client.get("/v2/orders")
    assert refused.value.status == 422 and refused.value.errors == envelope["errors"]
    assert str(refused.value) == "422 Could not anonymize orders: Order has status"


def test_a_401_renews_the_token_once(scripted):
    scripted.script = [(401, {}, {}), (200, {}, {"data": []}), (401, {}, {}), (401, {}, {})]
    with client_of(scripted, []) as client:
        assert client.get("/v2/orders") == {"data": []}
        with pytest.raises(StoreAuthError):
            client.get("/v2/orders")
    tokens = [s[2] for s in scripted.seen if s[0] == "GET"]
    assert tokens[0] != tokens[1], "a new token after the 401"
    assert [s[0] for s in scripted.seen].count("POST") == 3, "one renewal per 401, never two in a row"


def test_the_token_is_renewed_before_it_expires(store_up):
    with StoreClient.from_settings() as client:
        client.get("/v2/rule-promotions")
        first = client.token
        client.get("/v2/rule-promotions")
        assert client.token == first
        client.token_expires = 0  # as if its hour were up
        client.get("/v2/rule-promotions")
        assert client.token != first


def test_a_refused_connection_is_unavailable(store_up):
    store_up.stop()
    with StoreClient.from_settings() as client, pytest.raises(StoreUnavailable, match="could not reach"):
        client.get("/v2/orders")


def test_the_secret_is_in_no_repr_or_message(store_up, settings):
    settings.EPCC_CLIENT_SECRET = "wrong-secret-value"
    with StoreClient.from_settings() as client:
        assert "wrong-secret-value" not in repr(client) + repr(client.store)
        with pytest.raises(StoreAuthError) as error:
            client.get("/v2/orders")
    assert "wrong-secret-value" not in str(error.value)
    assert error.value.status == 401


def test_no_store_configured_says_what_to_set(settings):
    settings.EPCC_API_BASE_URL = ""
    with pytest.raises(StoreError, match="set EPCC_API_BASE_URL"):
        StoreClient.from_settings()
