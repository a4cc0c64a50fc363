"""sync_ep against a real second instance of this project playing the EPCC store (conftest.py)."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from connector.models import SyncState
from core.audit import Actor
from core.models import Interface
from orders.models import Order, OrderAddress
from orders.services import orders_anonymize
from promotions.models import CodeUsage, Promotion
from promotions.services import usages_anonymize

from .conftest import STORE_ORDERS, STORE_USAGES

pytestmark = pytest.mark.django_db


def sync(*args) -> str:
    out = io.StringIO()
    call_command("sync_ep", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def store_orders(store) -> dict:
    return {
        row[0]: row[1:]
        for row in store.sql("SELECT id, customer_email, anonymized, updated_at FROM orders_order")
    }


def test_full_sync_brings_every_order_and_usage(store):
    output = sync()
    assert f"orders: {STORE_ORDERS:,} created, 0 updated" in output
    assert f"usages: {STORE_USAGES:,} created, 0 updated" in output
    upstream = store_orders(store)
    assert set(Order.objects.values_list("id", flat=True)) == set(upstream)
    some = Order.objects.exclude(customer_email=None).first()
    assert some.customer_email == upstream[some.pk][0]
    assert OrderAddress.objects.count() == store.sql("SELECT count(*) FROM orders_orderaddress")[0][0]
    usages = store.sql("SELECT id, customer_email, promotion_id FROM promotions_codeusage")
    assert {u.pk: (u.customer_email, u.promotion_id) for u in CodeUsage.objects.all()} == {
        row[0]: (row[1], row[2]) for row in usages
    }
    assert set(Promotion.objects.values_list("name", flat=True)) == {
        row[0] for row in store.sql("SELECT name FROM promotions_promotion")
    }
    state = SyncState.objects.get(key="orders")
    assert state.watermark == max(row[2] for row in upstream.values()).replace(
        microsecond=state.watermark.microsecond
    )


def test_incremental_sync_reads_only_what_changed_upstream(store):
    sync()
    changed = store.sql(
        "UPDATE orders_order SET status = 'cancelled', updated_at = now() "
        "WHERE id IN (SELECT id FROM orders_order WHERE status <> 'cancelled' ORDER BY id LIMIT 3) "
        "RETURNING id"
    )
    new_id = uuid.uuid4()
    store.sql(
        "INSERT INTO orders_order (id, status, payment, shipping, anonymized, customer_email, currency,"
        " with_tax, without_tax, tax, discount, balance_owing, paid, authorized, without_discount,"
        " created_at, updated_at) SELECT %s, status, payment, shipping, false, 'new@example.com', currency,"
        " 1, 1, 0, 0, 0, 1, 0, 1, now(), now() FROM orders_order LIMIT 1",
        [new_id],
    )
    output = sync()
    # From the watermark on, past the orders already read at its time: the four changes only.
    assert "orders: 1 created, 3 updated" in output
    assert Order.objects.get(pk=new_id).customer_email == "new@example.com"
    assert set(Order.objects.filter(pk__in=[r[0] for r in changed]).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert "orders: 0 created, 0 updated" in sync(), "a run with no change upstream reads no order"


def test_a_wrong_secret_is_a_clear_error_and_changes_nothing(store, settings):
    store.configure(settings, secret="not-the-secret")
    with pytest.raises(CommandError) as error:
        sync()
    message = str(error.value)
    assert "refused the client credentials" in message and "EPCC_CLIENT_SECRET" in message
    assert "not-the-secret" not in message
    assert not Order.objects.exists() and not CodeUsage.objects.exists()
    assert not SyncState.objects.exclude(watermark=None).exists()
    # The admin's sync states say why, without the secret either.
    assert SyncState.objects.get(key="orders").last_error.startswith("401 ")
    assert "not-the-secret" not in SyncState.objects.get(key="orders").last_error


def test_a_sync_never_unmasks_a_record_anonymized_here(store, officer):
    # No worker runs here: the push waits in the outbox, and the store keeps every value.
    sync()
    order = Order.objects.filter(shipping="fulfilled", anonymized=False).exclude(customer_email=None).first()
    usage = CodeUsage.objects.exclude(customer_email=None).first()
    orders_anonymize(order_ids=[order.pk], actor=Actor.for_user(officer), via=Interface.ADMIN)
    usages_anonymize(usage_ids=[usage.pk], actor=Actor.for_user(officer), via=Interface.ADMIN)
    # The store still holds the values and changes the order again.
    store.sql("UPDATE orders_order SET updated_at = now(), paid = paid + 1 WHERE id = %s", [order.pk])
    output = sync("--full")
    assert "anonymized here kept their masked values" in output
    order.refresh_from_db()
    usage.refresh_from_db()
    assert order.anonymized and order.customer_email == "**"
    assert order.paid == store.sql("SELECT paid FROM orders_order WHERE id = %s", [order.pk])[0][0]
    assert {a.line_1 for a in OrderAddress.objects.filter(order=order)} <= {"**", None, ""}
    assert usage.anonymized and usage.customer_email == "**" and usage.updated_by == "officer"
    assert store_orders(store)[order.pk][0] not in (None, "**")


def test_an_unreachable_store_is_a_clear_error(store, settings):
    store.stop()
    with pytest.raises(CommandError, match="could not be reached"):
        sync()


def test_a_record_that_cannot_be_loaded_stops_the_run_and_the_next_resumes(store):
    # The first order of the second page (by updated_at) carries a status EPCC does not have.
    second_page = store.sql("SELECT id FROM orders_order ORDER BY updated_at, id OFFSET 100 LIMIT 1")[0][0]
    store.sql("UPDATE orders_order SET status = 'lost' WHERE id = %s", [second_page])
    with pytest.raises(CommandError) as error:
        sync()
    assert f"order {second_page} cannot be loaded: unknown status value" in str(error.value)
    assert Order.objects.count() == 100, "the first page stays, nothing of the bad one is loaded"

    store.sql("UPDATE orders_order SET status = 'complete' WHERE id = %s", [second_page])
    assert f"orders: {STORE_ORDERS - 100} created, 0 updated" in sync()
    assert Order.objects.count() == STORE_ORDERS


def test_a_stopped_usage_walk_resumes_after_the_promotions_it_finished(store):
    promotions = [row[0] for row in store.sql("SELECT id FROM promotions_promotion ORDER BY created_at, id")]
    last = promotions[-1]
    bad = store.sql("SELECT id FROM promotions_codeusage WHERE promotion_id = %s LIMIT 1", [last])[0][0]
    store.sql("UPDATE promotions_codeusage SET code = ' ' WHERE id = %s", [bad])
    with pytest.raises(CommandError, match=f"code usage {bad} cannot be loaded: code must not be empty"):
        sync()
    assert SyncState.objects.get(key="usages").cursor == {
        "promotions_done": sorted(map(str, promotions[:-1]))
    }

    store.sql(
        "UPDATE promotions_codeusage SET code = promotions_promotioncode.code FROM promotions_promotioncode"
        " WHERE promotions_codeusage.id = %s AND promotions_promotioncode.id = promotion_code_id",
        [bad],
    )
    assert "(1 promotions)" in sync(), "only the promotion left is walked"
    assert CodeUsage.objects.count() == STORE_USAGES
    assert SyncState.objects.get(key="usages").cursor == {}
    assert f"({len(promotions)} promotions)" in sync(), "a run after a finished one walks them all"
