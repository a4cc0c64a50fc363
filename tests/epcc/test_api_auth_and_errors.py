"""Who may call, and every failure as EPCC's error envelope (SPEC 3)."""

import logging
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.api_keys import api_key_create, api_key_revoke
from core.models import AccessToken, ApiKey
from orders.models import Order

ANONYMIZE = "/v2/orders/anonymize"
TOKEN_URL = "/oauth/access_token"


def assert_envelope(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"errors"} and payload["errors"]
    for error in payload["errors"]:
        assert error["status"] == status or status == 404
        assert isinstance(error["title"], str) and error["title"]
        assert isinstance(error["detail"], str) and error["detail"]
        assert set(error) <= {"status", "title", "detail", "meta"}
    return payload["errors"]


def endpoints(promotion_id):
    return [
        ("get", "/v2/orders"),
        ("get", f"/v2/orders/{uuid.uuid4()}"),
        ("post", ANONYMIZE),
        ("post", "/v2/rule-promotions/usages/anonymize"),
        ("post", "/v2/promotions/usages/anonymize"),
        ("get", f"/v2/rule-promotions/{promotion_id}/usages"),
        ("get", f"/v2/rule-promotions/{promotion_id}/codes/SUMMER10/usages"),
    ]


# --- 401 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Bearer 123.wrong-secret",
        "Bearer not-a-token",
        "Bearer at_forged-access-token",
        "Bearer a b",
        "Basic dXNlcjpwYXNz",
        "Token 123.abc",
    ],
)
def test_no_or_bad_token_is_a_401_on_every_endpoint(make_promotion, header):
    promotion = make_promotion()
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    for method, path in endpoints(promotion.pk):
        response = getattr(client, method)(path, {"data": {"order_ids": [str(uuid.uuid4())]}}, format="json")
        (error,) = assert_envelope(response, 401)
        assert error["title"] == "Unauthorized"
        assert response["WWW-Authenticate"] == "Bearer"


def test_wrong_secret_of_a_real_key_is_a_401_that_does_not_echo_it(officer):
    key, token = api_key_create(name="k", user=officer)
    forged = f"{key.key_id}.{'x' * 43}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    response = client.get("/v2/orders")
    assert_envelope(response, 401)
    assert forged not in response.content.decode() and str(key.key_id) not in response.content.decode()


def test_revoked_key_is_a_401(api_client, api_key):
    assert api_client.get("/v2/orders").status_code == 200
    api_key_revoke(api_key=api_key[0])
    assert_envelope(api_client.get("/v2/orders"), 401)


def test_expired_key_is_a_401(officer):
    _, token = api_key_create(name="old", user=officer, expires_at=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_envelope(client.get("/v2/orders"), 401)


def test_inactive_user_is_a_401(api_client, officer):
    officer.is_active = False
    officer.save()
    assert_envelope(api_client.get("/v2/orders"), 401)


def test_a_session_login_is_not_enough(client, officer):
    client.force_login(officer)
    assert_envelope(client.get("/v2/orders"), 401)


# --- 403 ------------------------------------------------------------------------------------------


def test_user_without_permissions_gets_403_everywhere(client_for, django_user_model, make_promotion):
    nobody = django_user_model.objects.create_user(username="nobody")
    client = client_for(nobody)
    for method, path in endpoints(make_promotion().pk):
        response = getattr(client, method)(path, {"data": {"usage_ids": [str(uuid.uuid4())]}}, format="json")
        (error,) = assert_envelope(response, 403)
        assert error["title"] == "Forbidden"


def test_viewer_reads_but_may_not_anonymize(client_for, viewer, make_order, make_usage):
    order, usage = make_order(), make_usage()
    client = client_for(viewer)
    assert client.get("/v2/orders").status_code == 200
    assert client.get(f"/v2/orders/{order.pk}").status_code == 200
    assert client.get(f"/v2/rule-promotions/{usage.promotion_id}/usages").status_code == 200

    (error,) = assert_envelope(
        client.post(ANONYMIZE, {"data": {"order_ids": [str(order.pk)]}}, format="json"), 403
    )
    assert "orders.anonymize_order" in error["detail"]
    body = {"data": {"usage_ids": [str(usage.pk)]}}
    assert_envelope(client.post("/v2/rule-promotions/usages/anonymize", body, format="json"), 403)
    assert not Order.objects.get(pk=order.pk).anonymized


def test_anonymize_permission_alone_anonymizes_without_view(client_for, django_user_model, make_order):
    user = django_user_model.objects.create_user(username="eraser")
    user.user_permissions.add(Permission.objects.get(codename="anonymize_order"))
    order = make_order()
    response = client_for(user).post(ANONYMIZE, {"data": {"order_ids": [str(order.pk)]}}, format="json")
    assert response.status_code == 200
    assert_envelope(client_for(user).get("/v2/orders"), 403)


def test_403_comes_before_404_so_existence_does_not_leak(client_for, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody")
    assert_envelope(client_for(nobody).get(f"/v2/rule-promotions/{uuid.uuid4()}/usages"), 403)


# --- 404, 405, 415, 500 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v2/",
        "/v2",
        "/v2/nothing",
        "/v2/orders/",
        "/v2/orders/not-a-uuid",
        "/v2/rule-promotions/not-a-uuid/usages",
        "/v2/rule-promotions/usages",
        "/oauth/",
        "/oauth/token",
    ],
)
@pytest.mark.parametrize("debug", [True, False])
def test_unknown_api_routes_are_a_404_envelope_with_or_without_debug(api_client, path, debug, settings):
    settings.DEBUG = debug
    (error,) = assert_envelope(api_client.get(path), 404)
    assert error["title"] == "Not Found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get"])
@pytest.mark.parametrize("path", ["/v2/nothing", "/v2/orders/not-a-uuid/anonymize", "/oauth/token", "/v2"])
def test_unknown_api_routes_are_a_404_envelope_whatever_the_method(method, path):
    # A browser-like client: Django's CSRF check is on, as it is for any real request.
    client = Client(enforce_csrf_checks=True)
    response = client.generic(method.upper(), path, '{"data": {}}', content_type="application/json")
    (error,) = assert_envelope(response, 404)
    assert error["detail"] == "There is no such endpoint."


def test_unknown_routes_outside_the_api_keep_djangos_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ANONYMIZE),
        ("put", ANONYMIZE),
        ("delete", "/v2/orders"),
        ("post", "/v2/orders"),
        ("get", "/v2/promotions/usages/anonymize"),
        ("patch", f"/v2/orders/{uuid.uuid4()}"),
        ("get", TOKEN_URL),
    ],
)
def test_wrong_method_is_a_405_envelope(api_client, method, path):
    (error,) = assert_envelope(getattr(api_client, method)(path), 405)
    assert error["title"] == "Method Not Allowed"


def test_unexpected_error_is_a_500_envelope_without_stack_trace_even_in_debug(
    api_client, make_order, monkeypatch, settings, caplog
):
    settings.DEBUG = True
    order = make_order()

    def explode(**kwargs):
        raise RuntimeError("boom: " + order.customer_email)

    monkeypatch.setattr("epcc.orders.orders_anonymize", explode)
    api_client.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        response = api_client.post(ANONYMIZE, {"data": {"order_ids": [str(order.pk)]}}, format="json")

    (error,) = assert_envelope(response, 500)
    text = response.content.decode()
    assert "Traceback" not in text and "RuntimeError" not in text and "boom" not in text
    assert order.customer_email not in text
    # Logged for the operators: the type and where, never the message (it may hold a value).
    assert "Unhandled RuntimeError in POST /v2/orders/anonymize" in caplog.text
    assert "epcc/orders.py" in caplog.text
    assert order.customer_email not in caplog.text


def test_handler500_answers_json_for_api_paths_only(rf):
    from epcc.errors import handler500

    api = handler500(rf.get("/v2/orders"))
    assert api.status_code == 500 and b'"errors"' in api.content
    assert b'"errors"' not in handler500(rf.get("/privacy/")).content


# --- No token ever echoed -------------------------------------------------------------------------


def test_no_response_echoes_the_token(api_client, api_key, make_order):
    token = api_key[1]
    order = make_order(shipping="unfulfilled")
    responses = [
        api_client.get("/v2/orders"),
        api_client.get("/v2/nothing"),
        api_client.post(
            ANONYMIZE, {"data": {"order_ids": [str(order.pk), str(uuid.uuid4())]}}, format="json"
        ),
        api_client.post(ANONYMIZE, {"data": {"order_ids": [token]}}, format="json"),
        api_client.get("/v2/orders", {"page[limit]": token}),
    ]
    for response in responses:
        assert token not in response.content.decode()
        assert token.split(".")[1] not in response.content.decode()


# --- OAuth access tokens --------------------------------------------------------------------------


def credentials(token):
    client_id, secret = token.split(".")
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def test_access_token_is_issued_in_epccs_shape_and_stored_hashed(api_key):
    key, token = api_key
    before = int(timezone.now().timestamp())
    response = APIClient().post(TOKEN_URL, credentials(token))  # form-encoded, as EPCC's SDKs send it

    assert response.status_code == 200
    payload = response.json()
    assert set(payload) == {"access_token", "token_type", "expires_in", "expires", "identifier"}
    assert payload["token_type"] == "Bearer" and payload["expires_in"] == 3600
    assert payload["identifier"] == "client_credentials"
    assert before + 3600 <= payload["expires"] <= before + 3602
    stored = AccessToken.objects.get(api_key=key)
    assert payload["access_token"] not in stored.token_hash
    assert not AccessToken.objects.filter(token_hash=payload["access_token"]).exists()
    assert response["Cache-Control"] == "no-store"


def test_access_token_is_issued_for_a_json_body_too(api_key):
    response = APIClient().post(TOKEN_URL, credentials(api_key[1]), format="json")
    assert response.status_code == 200 and response.json()["access_token"].startswith("at_")


def test_access_token_acts_as_its_key(api_key, make_usage):
    key, token = api_key
    access = APIClient().post(TOKEN_URL, credentials(token)).json()["access_token"]
    usage = make_usage()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = client.post(
        "/v2/promotions/usages/anonymize", {"data": {"usage_ids": [str(usage.pk)]}}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"][0]["updated_by"] == key.label


def test_access_token_expires(api_key, settings):
    access = APIClient().post(TOKEN_URL, credentials(api_key[1])).json()["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/v2/orders").status_code == 200
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_envelope(client.get("/v2/orders"), 401)


@override_settings(API_ACCESS_TOKEN_SECONDS=60)
def test_access_token_lifetime_is_a_setting(api_key):
    payload = APIClient().post(TOKEN_URL, credentials(api_key[1])).json()
    assert payload["expires_in"] == 60
    assert AccessToken.objects.get().expires_at <= timezone.now() + timedelta(seconds=60)


def test_access_token_dies_with_its_key(api_key):
    access = APIClient().post(TOKEN_URL, credentials(api_key[1])).json()["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    api_key_revoke(api_key=ApiKey.objects.get(pk=api_key[0].pk))
    assert_envelope(client.get("/v2/orders"), 401)


@pytest.mark.parametrize(
    "change",
    [
        {"client_secret": "Xq9-not-the-secret"},
        {"client_id": "123456789"},
        {"client_id": "abc"},
        {"client_id": "²"},
        {"client_id": "9" * 19},
    ],
)
def test_bad_client_credentials_are_a_401_without_echo(api_key, change):
    data = credentials(api_key[1]) | change
    response = APIClient().post(TOKEN_URL, data)
    (error,) = assert_envelope(response, 401)
    assert not data["client_secret"] or data["client_secret"] not in response.content.decode()
    assert not AccessToken.objects.exists()


def test_revoked_key_gets_no_access_token(api_key):
    api_key_revoke(api_key=api_key[0])
    assert_envelope(APIClient().post(TOKEN_URL, credentials(api_key[1])), 401)


@pytest.mark.parametrize("change", [{"grant_type": "password"}, {"grant_type": ""}])
def test_wrong_grant_is_a_400(api_key, change):
    response = APIClient().post(TOKEN_URL, credentials(api_key[1]) | change)
    assert_envelope(response, 400)
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("missing", ["grant_type", "client_id", "client_secret"])
@pytest.mark.parametrize("blank", [True, False])
def test_missing_or_blank_fields_are_a_400(api_key, missing, blank):
    data = credentials(api_key[1])
    if blank:
        data[missing] = ""
    else:
        del data[missing]
    (error,) = assert_envelope(APIClient().post(TOKEN_URL, data), 400)
    assert error["meta"] == {"source": missing}
    assert not AccessToken.objects.exists()


def test_token_endpoint_needs_a_body_it_can_read(api_key):
    assert_envelope(APIClient().post(TOKEN_URL, "x", content_type="text/plain"), 415)
    assert_envelope(APIClient().post(TOKEN_URL, "{", content_type="application/json"), 400)


# --- Throttling -----------------------------------------------------------------------------------


def test_too_many_requests_is_a_429_envelope(api_client, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "2/min"}
    try:
        assert api_client.get("/v2/orders").status_code == 200
        assert api_client.get("/v2/orders").status_code == 200
        response = api_client.get("/v2/orders")
    finally:
        UserRateThrottle.THROTTLE_RATES = original
    assert_envelope(response, 429)
    assert "Retry-After" in response


@pytest.mark.django_db
def test_options_is_a_405_in_the_envelope_not_a_403(client, officer):
    _, token = api_key_create(name="t", user=officer)
    answer = client.options("/v2/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 405
    assert answer.json()["errors"][0]["status"] == 405
