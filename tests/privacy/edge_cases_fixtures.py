"""Fixtures of test_pages_edge_cases.py: signed-in clients and one person with a mixed history.

That module takes them in by name; they override tests/privacy/conftest.py's there only.
"""

import uuid
from dataclasses import dataclass

import pytest


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@dataclass
class Person:
    email: str
    eligible: object  # fulfilled order
    refused: object  # complete, paid, unfulfilled
    usage: object


@pytest.fixture
def person(make_order, make_usage):
    email = "grace.subject@example.com"
    who = {"customer_email": email, "customer_id": uuid.uuid4()}
    eligible = make_order(**who)
    refused = make_order(shipping="unfulfilled", **who)
    usage = make_usage(customer_email=email, customer_id=who["customer_id"], order_id=eligible.pk)
    return Person(email, eligible, refused, usage)
