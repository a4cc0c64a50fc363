"""Fixtures of the API tests: clients holding real Bearer tokens, and the seed documents."""

import copy
import json
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from core.api_keys import api_key_create
from core.models import ThrottleCount
from epcc.importing.orders import order_from_epcc, orders_upsert

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The users these tests make log in with tokens, never passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttles(request):
    """Throttle counts live in a table: every test that reaches the database starts and ends
    without any (a transactional test's commits outlive it)."""
    names = set(request.fixturenames)
    if not ({"db", "transactional_db"} & names or request.node.get_closest_marker("django_db")):
        yield
        return
    if {"db", "transactional_db"} & names:
        request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    ThrottleCount.objects.all().delete()
    yield
    ThrottleCount.objects.all().delete()


@pytest.fixture
def seed():
    """seed("seed_003_order") -> the parsed JSON of tests/fixtures/<name>.json."""

    def load(name: str):
        return json.loads((FIXTURES / f"{name}.json").read_text())

    return load


@pytest.fixture
def token_for(db):
    """token_for(user) -> a real Bearer token of a new API key acting as that user."""

    def make(user, name="tests"):
        _, token = api_key_create(name=name, user=user)
        return token

    return make


@pytest.fixture
def client_for(token_for):
    """client_for(user) -> an APIClient sending a Bearer token of that user's new key."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client

    return make


@pytest.fixture
def api_key(officer):
    """(ApiKey, token) of the privacy officer: may view and anonymize."""
    return api_key_create(name="integration", user=officer)


@pytest.fixture
def api_client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    return client


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def seed_003_order(seed):
    """Seed 003's order as it was before anonymization: personal values where it shows "**"."""
    document = copy.deepcopy(seed("seed_003_order")["data"][0])
    document["anonymized"] = False
    document["customer"] = {"name": "Ron Swanson", "email": "ron@swanson.com"}
    for kind in ("shipping_address", "billing_address"):
        for name, value in document[kind].items():
            if value == "**":
                document[kind][name] = f"{name} of Ron"
    orders_upsert(orders=[order_from_epcc(document)])
    return document


@pytest.fixture
def person(make_order, make_usage):
    """(customer id, shipped order, unpaid order, code usage on the shipped one) of one person."""
    customer_id = uuid.uuid4()
    who = {
        "customer_id": customer_id,
        "customer_email": "Grace.Hopper@Example.com",
        "customer_name": "Grace Hopper",
    }
    shipped = make_order(**who)
    unpaid = make_order(payment="unpaid", shipping="unfulfilled", **who)
    usage = make_usage(
        customer_id=customer_id, customer_email="grace.hopper@example.com", order_id=shipped.pk
    )
    return customer_id, shipped, unpaid, usage
