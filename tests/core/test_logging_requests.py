"""Request logs of a real server leave out query strings: filters and searches carry emails.

Runs Django's own development server (the code behind `runserver`, which logs
every request on `django.server`) in a thread, and the test client for
`django.request`, both through the project's LOGGING.
"""

import threading
import urllib.error
import urllib.request

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

EMAIL = "quentin.zephyrine@pii.example"


@pytest.fixture
def dev_server():
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler, ipv6=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own local server
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_the_development_server_logs_requests_without_their_query_strings(all_logs, dev_server):
    statuses = [
        fetch(f"{dev_server}/v2/orders?filter=eq(email,{EMAIL})"),
        fetch(f"{dev_server}/privacy/people/?q={EMAIL}"),
        fetch(f"{dev_server}/no-such-page/?q={EMAIL}"),
    ]

    assert statuses == [401, 200, 404]  # the search redirects to the login page
    logged = all_logs.text
    assert '"GET /v2/orders?… HTTP/1.1" 401' in logged
    assert '"GET /privacy/people/?… HTTP/1.1" 302' in logged
    assert "Not Found: /no-such-page/" in logged
    assert "zephyrine" not in logged  # nor url-encoded, as in the login redirect's ?next=


@pytest.mark.django_db
def test_error_request_logs_name_the_path_only(all_logs, client):
    client.get("/v2/orders", {"filter": f"eq(email,{EMAIL})"})
    client.get("/no-such-page/", {"q": EMAIL})

    assert "Unauthorized: /v2/orders" in all_logs.text
    assert "Not Found: /no-such-page/" in all_logs.text
    assert EMAIL not in all_logs.text


FORGED = "x%0D%0AFAKE-LOG-LINE%0D%0A" + EMAIL.replace("@", "%40")


def no_forged_line(text: str) -> None:
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith("FAKE-LOG-LINE")], text
    assert "zephyrine" not in text


@pytest.mark.django_db
def test_an_unexpected_api_error_logs_its_path_escaped_and_without_an_email(all_logs, officer, monkeypatch):
    from rest_framework.test import APIClient

    from core.api_keys import api_key_create
    from epcc.usages import CodeUsageViewSet

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(CodeUsageViewSet, "list", explode)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='log', user=officer)[1]}")
    response = client.get(f"/v2/rule-promotions/26067b82-a50c-462c-b3ed-1ca77aa13bd1/codes/{FORGED}/usages")

    assert response.status_code == 500
    no_forged_line(all_logs.text)
    assert "/codes/x\\r\\nFAKE-LOG-LINE\\r\\n[email withheld]/usages" in all_logs.text


@pytest.mark.django_db
def test_a_not_found_path_is_logged_escaped_and_without_an_email(all_logs, client):
    assert client.get(f"/no-such-page/{FORGED}/").status_code == 404
    no_forged_line(all_logs.text)
    assert "Not Found: /no-such-page/" in all_logs.text  # Django escapes it; the email is withheld


@pytest.mark.django_db(transaction=True)
def test_the_development_server_escapes_a_forged_path(all_logs, dev_server):
    assert fetch(f"{dev_server}/no-such-page/{FORGED}") == 404
    no_forged_line(all_logs.text)
