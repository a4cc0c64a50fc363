"""The two ways to build an order's EPCC document give the same document."""

import pytest

from orders.epcc import order_to_epcc, orders_to_epcc
from orders.models import Order


@pytest.mark.django_db
def test_documents_from_rows_equal_documents_from_instances(make_order):
    orders = [
        make_order(),
        make_order(addresses=False, attributes={}, items=0, customer_id=None),
        make_order(attributes={"a": 1, "b": {"nested": True}, "c": None}, items=5, contact_email=None),
    ]
    from_rows = orders_to_epcc([o.pk for o in orders])
    for order in Order.objects.for_epcc().filter(pk__in=[o.pk for o in orders]):
        assert from_rows[order.pk] == order_to_epcc(order)


@pytest.mark.django_db
def test_a_batch_of_documents_costs_four_queries_whatever_its_size(make_order, django_assert_num_queries):
    orders = [make_order() for _ in range(30)]
    with django_assert_num_queries(4):
        documents = orders_to_epcc([o.pk for o in orders])
    assert len(documents) == 30
    with django_assert_num_queries(4):
        orders_to_epcc([orders[0].pk])
