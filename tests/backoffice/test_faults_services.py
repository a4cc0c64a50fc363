"""A database failure in the middle of a batch leaves nothing changed."""

from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection

from core.models import AuditRecord, Interface
from orders.models import Order, OrderAddress
from orders.services import orders_anonymize
from promotions.models import CodeUsage
from promotions.services import usages_anonymize


@contextmanager
def fail_on(sql_fragment: str, *, after_running: bool = False):
    """Make the database call whose SQL contains `sql_fragment` fail, as a lost connection would.

    `after_running`: the statement runs first, and the failure comes as its answer would.
    """
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        if sql_fragment in sql:
            if after_running:
                execute(sql, params, many, context)
            raise DatabaseError(f"injected fault on: {sql_fragment}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def test_failure_after_orders_are_updated_leaves_every_table_unchanged(make_order, actor):
    orders = [make_order() for _ in range(3)]
    before_orders = list(Order.objects.order_by("pk").values())
    before_addresses = list(OrderAddress.objects.order_by("pk").values())

    # The statement that masks the addresses runs (it masks the orders and their
    # attributes too), then fails.
    with fail_on('UPDATE "orders_orderaddress"', after_running=True) as seen, pytest.raises(DatabaseError):
        orders_anonymize(order_ids=[o.pk for o in orders], actor=actor, via=Interface.API)

    assert any('UPDATE "orders_order" SET' in sql for sql in seen), "the orders were masked first"
    assert list(Order.objects.order_by("pk").values()) == before_orders
    assert list(OrderAddress.objects.order_by("pk").values()) == before_addresses
    assert not AuditRecord.objects.exists()


def test_failure_writing_the_audit_trail_undoes_the_anonymization(make_usage, actor):
    usage = make_usage()
    with fail_on('INSERT INTO "core_auditrecord"'), pytest.raises(DatabaseError):
        usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)
    usage.refresh_from_db()
    assert not usage.anonymized and usage.customer_email.endswith("@example.com")
    assert CodeUsage.objects.filter(anonymized=True).count() == 0
