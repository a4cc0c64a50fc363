"""A NUL character (%00) anywhere a request carries text: never a 500.

PostgreSQL refuses NUL in text (psycopg's DataError), so a NUL that reaches a
query would fail it. The API answers a 400 envelope, the privacy pages a form
error, the admin a 400 page; nothing is looked up and nothing is changed.
"""

import json
import uuid

import pytest
from rest_framework.test import APIClient

from core.api_keys import api_key_create

NUL = "\x00"
PROMOTION = uuid.uuid4()


@pytest.fixture
def api(officer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='nul', user=officer)[1]}")
    return client


def assert_envelope_400(response):
    assert response.status_code == 400, response.content[:300]
    body = json.loads(response.content)
    assert body["errors"][0]["status"] == 400
    assert "NUL" in body["errors"][0]["detail"]


@pytest.mark.parametrize(
    "path",
    [
        f"/v2/rule-promotions/{PROMOTION}/codes/%00/usages",
        f"/v2/rule-promotions/{PROMOTION}/codes/a%00b/usages",
        f"/v2/rule-promotions/{PROMOTION}/codes/bxgy/usages?page[limit]=%00",
        "/v2/orders?sort=%00",
        "/v2/orders?filter=eq(email,a%00@b.c)",
    ],
)
@pytest.mark.django_db
def test_a_nul_in_an_api_path_or_query_is_a_400_envelope(api, path):
    assert_envelope_400(api.get(path))


@pytest.mark.django_db
def test_a_nul_in_an_api_body_is_a_400_envelope(api):
    # Not the middleware's: the body's ids are not UUIDs (a schema-valid body is read as ever).
    body = '{"data": {"order_ids": ["\\u0000"]}}'
    response = api.post("/v2/orders/anonymize", body, content_type="application/json")
    assert response.status_code == 400
    assert "Not a UUID" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("fields", [{"client_id": NUL}, {"client_id": "1", "client_secret": f"x{NUL}"}])
@pytest.mark.django_db
def test_a_nul_in_the_token_endpoint_is_an_unknown_client(fields):
    body = {"grant_type": "client_credentials", "client_id": "1", "client_secret": "x"} | fields
    response = APIClient().post("/oauth/access_token", body)
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == 401


def assert_form_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert b"Null characters are not allowed" in response.content


@pytest.mark.django_db
def test_a_nul_in_the_person_search_is_a_form_error(client, officer):
    client.force_login(officer)
    assert_form_error(client.get("/privacy/people/", {"q": f"ada{NUL}@example.com"}), 200)


@pytest.mark.django_db
def test_a_nul_in_the_erasure_preview_is_a_form_error(client, officer, make_order):
    order = make_order(customer_email="ada@example.com")
    client.force_login(officer)
    response = client.post(
        "/privacy/erasure/preview/",
        {"q": f"ada{NUL}@example.com", "order_ids": [str(order.pk)], "reference": "T-1"},
    )
    assert_form_error(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/privacy/people/export/?q=%00",
        "/privacy/usages/?code=%00",
        "/privacy/usages/?customer_email=a%00",
        "/privacy/audit/?actor=%00",
        "/privacy/jobs/?status=%00",
    ],
)
@pytest.mark.django_db
def test_no_privacy_page_fails_on_a_nul(client, officer, path):
    client.force_login(officer)
    assert client.get(path).status_code in (200, 302, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/orders/order/?status__exact=%00",
        "/admin/orders/order/?q=%00",
        "/admin/promotions/codeusage/?q=a%00",
        "/admin/promotions/promotion/?q=%00",
        "/admin/core/apikey/?q=%00",
        "/admin/core/auditrecord/?action__exact=%00",
        "/admin/core/job/?status__exact=%00",
    ],
)
@pytest.mark.django_db
def test_a_nul_in_an_admin_list_is_a_400_page(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.django_db
def test_a_nul_in_an_admin_form_is_a_400_page(client):
    response = client.post("/admin/login/", {"username": f"admin{NUL}", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/privacy/jobs/%00/", "/admin/orders/order/%00/change/", "/static/%00.css"])
@pytest.mark.django_db
def test_a_nul_in_any_path_is_a_400(admin_client, path):
    assert admin_client.get(path).status_code == 400


@pytest.mark.parametrize("path", ["/privacy/", "/admin/", "/v2/orders"])
@pytest.mark.django_db
def test_a_nul_in_the_session_cookie_is_a_400(client, path):
    # A quoted cookie value's octal escape is decoded: the session key would hold a NUL.
    assert client.get(path, HTTP_COOKIE='sessionid="abcdefghij\\000"').status_code == 400
