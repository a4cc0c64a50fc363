"""core.batches: key order, as PostgreSQL orders uuid keys."""

import uuid

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batches import in_key_order

EDGES = [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.UUID(int=2**127), uuid.UUID(int=2**127 - 1)]


@given(st.lists(st.uuids(), max_size=50))
def test_in_key_order_is_uuid_order(ids):
    ids = [*ids, *EDGES]
    assert in_key_order(ids) == sorted(ids)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(st.lists(st.uuids(), min_size=1, max_size=30))
def test_in_key_order_is_postgresql_order(ids):
    ids = [*ids, *EDGES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::uuid[]) AS id ORDER BY id", ["{" + ",".join(map(str, ids)) + "}"]
        )
        assert [row[0] for row in cursor.fetchall()] == in_key_order(ids)
