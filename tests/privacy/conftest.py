"""Fixtures of the privacy pages' tests: signed-in clients and one person with a mixed history."""

import uuid
from dataclasses import dataclass

import pytest


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@dataclass
class Person:
    email: str
    customer_id: uuid.UUID
    account_id: uuid.UUID
    eligible: object  # fulfilled order
    refused: object  # complete, paid, unfulfilled
    usages: list


@pytest.fixture
def person(make_order, make_usage, make_promotion):
    """Ada: two orders (one eligible, one not) and two usages in two promotions."""
    email = "Ada.Subject@Example.com"
    customer_id, account_id = uuid.uuid4(), uuid.uuid4()
    who = {"customer_email": email, "customer_id": customer_id, "account_id": account_id}
    eligible = make_order(customer_name="Ada Subject", **who)
    refused = make_order(customer_name="Ada Subject", shipping="unfulfilled", **who)
    usages = [
        make_usage(customer_email=email.lower(), customer_id=customer_id, order_id=eligible.pk),
        make_usage(promotion=make_promotion(name="Winter"), code="WINTER5", customer_email=email.upper()),
    ]
    return Person(email, customer_id, account_id, eligible, refused, usages)


@pytest.fixture
def stranger(make_order, make_usage):
    """Someone else entirely, who must never show up in Ada's results."""
    return make_order(customer_email="someone.else@example.com"), make_usage(
        customer_email="someone.else@example.com"
    )
