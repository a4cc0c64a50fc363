"""`__in_array` (core/lookups.py): `= ANY` with one array parameter, same rows as `__in`."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderAddress

pytestmark = pytest.mark.django_db


def test_selects_the_same_rows_as_in(make_order):
    orders = [make_order() for _ in range(3)]
    wanted = [orders[0].pk, orders[2].pk, uuid.uuid4()]

    assert set(Order.objects.filter(pk__in_array=wanted)) == set(Order.objects.filter(pk__in=wanted))
    assert set(OrderAddress.objects.filter(order_id__in_array=wanted).values_list("order_id", flat=True)) == {
        orders[0].pk,
        orders[2].pk,
    }
    assert not Order.objects.filter(pk__in_array=[]).exists()


def test_postgresql_gets_one_array_parameter_not_one_per_id(make_order):
    ids = [make_order(addresses=False, items=0).pk for _ in range(3)]

    with CaptureQueriesContext(connection) as queries:
        assert Order.objects.filter(pk__in_array=ids).count() == 3

    sql = queries[0]["sql"]
    assert "= ANY(" in sql and " IN (" not in sql
