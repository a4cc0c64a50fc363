"""API security: rate limits, dead tokens, permissions, and what a bad token gets back."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db.models.functions import Now
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.api_keys import api_key_create, api_key_revoke
from core.models import AccessToken, ApiKey, ThrottleCount
from orders.models import Order
from promotions.models import CodeUsage

ROOT = Path(__file__).resolve().parents[2]


def bearer_client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)


def user_with(django_user_model, username, *codenames):
    user = django_user_model.objects.create_user(username=username, password="x-password-1")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def token_for(user) -> str:
    return api_key_create(name=f"key of {user.username}", user=user)[1]


def post_json(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def assert_envelope(answer, status):
    assert answer.status_code == status, answer.content[:300]
    body = answer.json()
    assert set(body) == {"errors"} and body["errors"][0]["status"] == status
    return body["errors"][0]


# --- Rate limiting ------------------------------------------------------------------------------


def test_the_rate_limit_comes_from_api_throttle_rate():
    code = (
        "import django; django.setup(); from rest_framework.throttling import UserRateThrottle; "
        "print('RATE', UserRateThrottle().rate)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "backoffice.settings", "API_THROTTLE_RATE": "7/min", "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert "RATE 7/min" in result.stdout, result.stdout + result.stderr


@pytest.fixture
def rate(monkeypatch):
    """Sets the per-user rate as API_THROTTLE_RATE would (DRF binds the rates when it loads)."""

    def set_rate(value: str, scope: str = "user"):
        for throttle in (UserRateThrottle, AnonRateThrottle):
            monkeypatch.setattr(throttle, "THROTTLE_RATES", {**throttle.THROTTLE_RATES, scope: value})

    return set_rate


@pytest.mark.django_db
def test_the_request_past_the_rate_is_a_429_in_the_envelope(officer, rate, django_user_model):
    rate("3/min")
    client = bearer_client(token_for(officer))
    answers = [client.get("/v2/orders") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    entry = assert_envelope(answers[3], 429)
    assert entry["title"] == "Too Many Requests"
    assert int(answers[3]["Retry-After"]) > 0
    # The limit is per user: someone else still gets through.
    other = user_with(django_user_model, "other", "view_order")
    assert bearer_client(token_for(other)).get("/v2/orders").status_code == 200


@pytest.mark.django_db
def test_anonymize_requests_count_against_the_same_limit(officer, rate, make_order):
    rate("2/min")
    order = make_order(shipping="fulfilled")
    client = bearer_client(token_for(officer))
    client.get("/v2/orders")
    client.get("/v2/orders")
    answer = post_json(client, "/v2/orders/anonymize", {"data": {"order_ids": [str(order.pk)]}})

    assert_envelope(answer, 429)
    order.refresh_from_db()
    assert not order.anonymized


@pytest.mark.django_db
def test_the_token_endpoint_is_rate_limited_per_client_address(officer, rate):
    rate("2/min", scope="anon")
    key, token = api_key_create(name="guess", user=officer)
    guesses = [
        Client().post(
            "/oauth/access_token",
            {"grant_type": "client_credentials", "client_id": key.key_id, "client_secret": f"guess-{n}"},
        )
        for n in range(3)
    ]
    assert [g.status_code for g in guesses] == [401, 401, 429]
    assert_envelope(guesses[2], 429)


def guess(client_id="1", **headers):
    return Client(**headers).post(
        "/oauth/access_token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "guess"},
    )


@pytest.mark.django_db
def test_a_made_up_x_forwarded_for_does_not_reset_the_token_endpoints_limit(rate):
    rate("2/min", scope="anon")
    answers = [guess(HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 429, 429]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_client_is_the_address_it_adds(rate, settings):
    """API_TRUSTED_PROXIES=1: the last X-Forwarded-For entry (the proxy's) names the client;
    what the client wrote before it counts for nothing."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    rate("2/min", scope="anon")
    first = [guess(HTTP_X_FORWARDED_FOR=f"made-up-{n}, 198.51.100.7") for n in range(3)]
    other = guess(HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert [a.status_code for a in first] == [401, 401, 429]
    assert other.status_code == 401


def test_trusted_proxies_default_to_none_and_come_from_api_trusted_proxies():
    code = (
        "import django; django.setup(); from rest_framework.settings import api_settings; "
        "print('PROXIES', api_settings.NUM_PROXIES)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "backoffice.settings", "PATH": ""}
    for extra, expected in (({}, "PROXIES 0"), ({"API_TRUSTED_PROXIES": "2"}, "PROXIES 2")):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env | extra, capture_output=True, text=True
        )
        assert expected in result.stdout, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_counts_live_in_an_unlogged_table_without_the_client_address():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s", [ThrottleCount._meta.db_table]
        )
        assert cursor.fetchone() == ("u",)  # no WAL: a count's write waits for no disk flush
    guess(REMOTE_ADDR="198.51.100.23")
    (row,) = ThrottleCount.objects.values_list("key", "count")
    assert "198.51.100.23" not in row[0] and len(row[0]) == 64 and row[1] == 1  # hashed


@pytest.mark.django_db
def test_the_database_cache_table_is_gone():
    from django.db import connection

    assert "core_cache" not in connection.introspection.table_names()


@pytest.mark.django_db
def test_a_throttled_call_costs_one_statement_more_than_an_unthrottled_one(
    officer, rate, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = bearer_client(token_for(officer))
    client.get("/v2/orders")  # the key's user and permissions are the same either way
    rate(None)
    with CaptureQueriesContext(connection) as unthrottled:
        assert client.get("/v2/orders").status_code == 200
    rate("100/min")
    with django_assert_num_queries(len(unthrottled.captured_queries) + 1) as throttled:
        assert client.get("/v2/orders").status_code == 200
    extra = [q["sql"] for q in throttled.captured_queries if ThrottleCount._meta.db_table in q["sql"]]
    assert len(extra) == 1 and extra[0].lstrip().startswith("INSERT")


@pytest.mark.django_db
def test_the_window_rolls_over_and_the_count_starts_again(officer, rate):
    rate("2/min")
    client = bearer_client(token_for(officer))
    assert [client.get("/v2/orders").status_code for _ in range(3)] == [200, 200, 429]
    ThrottleCount.objects.update(window_end=Now() - timedelta(seconds=1))  # the minute has passed
    assert [client.get("/v2/orders").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.django_db
def test_retry_after_is_the_seconds_until_the_window_ends(rate):
    rate("1/hour", scope="anon")
    assert guess().status_code == 401
    first_429 = guess()
    assert_envelope(first_429, 429)
    assert 3590 < int(first_429["Retry-After"]) <= 3600
    ThrottleCount.objects.update(window_end=Now() + timedelta(seconds=42.5))
    # Refused requests do not push the window's end further.
    answers = [guess() for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 429]
    assert [a["Retry-After"] for a in answers] == ["43", "43", "43"]
    assert ThrottleCount.objects.get().count == 2  # the limit + 1, however many are refused


COUNT_IN_A_PROCESS = """
import json, sys, django
django.setup()
from django.db.models.functions import Now
from django.test import Client
body = {"grant_type": "client_credentials", "client_id": "1", "client_secret": "x"}
answers = [Client().post("/oauth/access_token", body) for _ in range(int(sys.argv[1]))]
print("STATUSES", json.dumps([a.status_code for a in answers]))
"""


def test_every_process_shares_the_throttle_counts(transactional_db):
    """Two processes (as two gunicorn workers): the second sees the first one's requests."""
    from tests.plugins.job_workers import worker_database_url

    env = {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": worker_database_url(),
        "API_THROTTLE_ANON_RATE": "3/min",
        "PATH": "",
    }

    def statuses(requests: int) -> list[int]:
        result = subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_PROCESS, str(requests)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        line = [line for line in result.stdout.splitlines() if line.startswith("STATUSES")]
        assert line, result.stdout + result.stderr
        return json.loads(line[0].split(" ", 1)[1])

    assert statuses(3) == [401, 401, 401]
    assert statuses(1) == [429]


# --- Dead tokens ------------------------------------------------------------------------------------


def access_token(client_id, secret) -> str:
    answer = Client().post(
        "/oauth/access_token",
        {"grant_type": "client_credentials", "client_id": str(client_id), "client_secret": secret},
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["api-key", "access-token"])
def test_a_revoked_key_and_its_access_tokens_are_refused(officer, kind):
    key, token = api_key_create(name="soon revoked", user=officer)
    if kind == "access-token":
        token = access_token(key.key_id, token.split(".", 1)[1])
    client = bearer_client(token)
    assert client.get("/v2/orders").status_code == 200

    api_key_revoke(api_key=key)
    entry = assert_envelope(client.get("/v2/orders"), 401)
    assert token not in json.dumps(entry)


@pytest.mark.django_db
def test_an_expired_key_is_refused(officer):
    key, token = api_key_create(name="expired", user=officer, expires_at=timezone.now() + timedelta(hours=1))
    client = bearer_client(token)
    assert client.get("/v2/orders").status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_envelope(client.get("/v2/orders"), 401)


@pytest.mark.django_db
def test_an_expired_access_token_is_refused_though_its_key_lives(officer):
    key, token = api_key_create(name="lives", user=officer)
    short = access_token(key.key_id, token.split(".", 1)[1])
    client = bearer_client(short)
    assert client.get("/v2/orders").status_code == 200
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_envelope(client.get("/v2/orders"), 401)
    assert bearer_client(token).get("/v2/orders").status_code == 200


@pytest.mark.django_db
def test_a_deactivated_users_keys_are_refused(officer):
    token = token_for(officer)
    officer.is_active = False
    officer.save()
    assert_envelope(bearer_client(token).get("/v2/orders"), 401)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60),
        # A header reaches Django as latin-1 text, whatever bytes a client sends.
        st.builds(
            lambda a, b: f"{a}.{b}",
            st.integers(min_value=-(2**70), max_value=2**70),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=20),
        ),
        st.builds(lambda n: f"{'9' * n}.secret", st.integers(1, 25)),
        st.just("at_" + "x" * 300),
    )
)
def test_any_malformed_or_unknown_token_is_a_401_that_does_not_echo_it(officer, token):
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False).get("/v2/orders")
    assert answer.status_code == 401, (token, answer.status_code, answer.content[:200])
    assert set(answer.json()) == {"errors"}
    # A short token may be a piece of the fixed text by chance ("stat" of "status").
    if len(token) > 8:
        assert token not in answer.content.decode()


# --- Permissions --------------------------------------------------------------------------------------


@pytest.fixture
def records(make_order, make_promotion, make_usage):
    order = make_order(shipping="fulfilled")
    promotion = make_promotion(codes=("SUMMER10",))
    usage = make_usage(promotion=promotion, code="SUMMER10")
    return order, promotion, usage


def every_endpoint(order, promotion, usage):
    return {
        "orders": lambda c: c.get("/v2/orders"),
        "order": lambda c: c.get(f"/v2/orders/{order.pk}"),
        "usages": lambda c: c.get(f"/v2/rule-promotions/{promotion.pk}/usages"),
        "code usages": lambda c: c.get(f"/v2/rule-promotions/{promotion.pk}/codes/SUMMER10/usages"),
        "anonymize orders": lambda c: post_json(
            c, "/v2/orders/anonymize", {"data": {"order_ids": [str(order.pk)]}}
        ),
        "anonymize usages": lambda c: post_json(
            c, "/v2/rule-promotions/usages/anonymize", {"data": {"usage_ids": [str(usage.pk)]}}
        ),
        "anonymize usages (alias)": lambda c: post_json(
            c, "/v2/promotions/usages/anonymize", {"data": {"usage_ids": [str(usage.pk)]}}
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codenames", "allowed"),
    [
        ((), set()),
        (("view_order",), {"orders", "order"}),
        (("view_codeusage",), {"usages", "code usages"}),
        (("view_order", "view_codeusage"), {"orders", "order", "usages", "code usages"}),
        (("anonymize_order",), {"anonymize orders"}),
        (("anonymize_codeusage",), {"anonymize usages", "anonymize usages (alias)"}),
    ],
    ids=["nothing", "view-orders", "view-usages", "view-both", "anonymize-orders", "anonymize-usages"],
)
def test_each_endpoint_needs_its_own_permission(django_user_model, records, codenames, allowed):
    user = user_with(django_user_model, "limited", *codenames)
    client = bearer_client(token_for(user))
    statuses = {name: call(client).status_code for name, call in every_endpoint(*records).items()}

    assert {name for name, status in statuses.items() if status == 200} == allowed, statuses
    assert {status for name, status in statuses.items() if name not in allowed} <= {403}
    order, _, usage = records
    order.refresh_from_db(), usage.refresh_from_db()
    assert order.anonymized == ("anonymize orders" in allowed)
    assert usage.anonymized == ("anonymize usages" in allowed)


@pytest.mark.django_db
def test_a_forbidden_answer_shows_no_record(django_user_model, records):
    order, promotion, usage = records
    client = bearer_client(token_for(user_with(django_user_model, "nosy", "view_codeusage")))
    answer = client.get(f"/v2/orders/{order.pk}")
    entry = assert_envelope(answer, 403)
    assert order.customer_email not in answer.content.decode()
    assert "permission" in entry["detail"]


@pytest.mark.django_db
def test_usages_of_another_promotion_are_not_reachable_through_this_ones_paths(
    officer, make_promotion, make_usage
):
    mine = make_promotion(codes=("SUMMER10",))
    theirs = make_promotion(codes=("SUMMER10",))
    make_usage(promotion=mine, code="SUMMER10")
    foreign = make_usage(promotion=theirs, code="SUMMER10")
    client = bearer_client(token_for(officer))

    for path in (
        f"/v2/rule-promotions/{mine.pk}/usages",
        f"/v2/rule-promotions/{mine.pk}/codes/summer10/usages",
    ):
        listed = client.get(path).json()["data"]
        assert foreign.pk not in {u["id"] for u in listed} and len(listed) == 1
        by_id = client.get(path, {"filter": f"eq(id,{foreign.pk})"}).json()
        assert by_id["data"] == [] and by_id["meta"]["results"]["total"] == 0


@pytest.mark.django_db
def test_a_session_login_does_not_open_the_api(client, officer):
    """The API takes Bearer tokens only: a logged-in admin session (and its CSRF-less POST) is refused."""
    client.force_login(officer)
    assert client.get("/v2/orders").status_code == 401
    assert post_json(client, "/v2/orders/anonymize", {"data": {"order_ids": []}}).status_code == 401
    assert Order.objects.filter(anonymized=True).count() == 0
    assert CodeUsage.objects.filter(anonymized=True).count() == 0
