"""The push of anonymizations to a real second instance playing the store, by a real worker."""

import io

import pytest
from django.core.management import call_command

from core.audit import Actor
from core.models import Interface, UpstreamPush, UpstreamState
from core.upstream import upstream_push_retry
from orders.models import Order
from orders.services import orders_anonymize
from promotions.models import CodeUsage
from promotions.services import usages_anonymize
from tests.conftest import privacy_officers_group
from tests.plugins.job_workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushing(store, settings, monkeypatch, start_worker, django_user_model):
    """The store synced here, a worker that pushes to it (short backoff), and an officer."""
    store.configure(settings, monkeypatch)
    monkeypatch.setenv("EPCC_PUSH_BACKOFF_SECONDS", "0.5")
    call_command("sync_ep", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    officer = django_user_model.objects.create_user(username="officer", password="officer-password-1")
    officer.groups.add(privacy_officers_group())
    start_worker()
    return Actor.for_user(officer)


def eligible_orders(count: int) -> list:
    orders = Order.objects.filter(shipping="fulfilled", anonymized=False).exclude(customer_email=None)
    return list(orders.order_by("id").values_list("id", flat=True)[:count])


def store_masked(store, table: str, ids) -> dict:
    rows = store.sql(f"SELECT id, customer_email, anonymized FROM {table} WHERE id = ANY(%s)", [list(ids)])  # noqa: S608
    return {row[0]: (row[1], row[2]) for row in rows}


def store_audit_counts(store, ids) -> dict:
    rows = store.sql(
        "SELECT record_id, count(*) FROM core_auditrecord WHERE record_id = ANY(%s) GROUP BY record_id",
        [list(ids)],
    )
    return dict(rows)


def pushes(**filters):
    return UpstreamPush.objects.filter(**filters)


def test_an_anonymization_here_lands_in_the_store(store, pushing):
    order_ids = eligible_orders(2)
    usage_ids = list(
        CodeUsage.objects.exclude(customer_email=None).order_by("id").values_list("id", flat=True)[:2]
    )
    orders_anonymize(order_ids=order_ids, actor=pushing, via=Interface.WEB)
    usages_anonymize(usage_ids=usage_ids, actor=pushing, via=Interface.WEB)
    assert pushes(state=UpstreamState.PENDING).count() == 4

    wait_for(lambda: pushes(state=UpstreamState.DONE).count() == 4, "the four pushes to land")
    assert store_masked(store, "orders_order", order_ids) == dict.fromkeys(order_ids, ("**", True))
    assert store_masked(store, "promotions_codeusage", usage_ids) == dict.fromkeys(usage_ids, ("**", True))
    assert store_audit_counts(store, [*order_ids, *usage_ids]) == dict.fromkeys([*order_ids, *usage_ids], 1)
    assert not pushes().exclude(error="").exists()


def test_a_store_stopped_mid_push_gets_everything_once_when_it_is_back(store, pushing):
    first, *rest = eligible_orders(4)
    orders_anonymize(order_ids=[first], actor=pushing, via=Interface.WEB)
    wait_for(lambda: pushes(state=UpstreamState.DONE).count() == 1, "the first push to land")

    store.stop()
    orders_anonymize(order_ids=rest, actor=pushing, via=Interface.WEB)
    waiting = wait_for(
        lambda: list(pushes(record_id__in=rest, attempts__gte=1, state=UpstreamState.PENDING)),
        "a refused connection",
    )
    assert "could not reach the store" in waiting[0].error

    store.start()
    wait_for(
        lambda: pushes(state=UpstreamState.DONE).count() == 4, "the pushes to land once the store is back"
    )
    assert store_masked(store, "orders_order", [first, *rest]) == dict.fromkeys([first, *rest], ("**", True))
    assert store_audit_counts(store, [first, *rest]) == dict.fromkeys([first, *rest], 1), "nothing twice"


def test_a_422_from_the_store_is_failed_upstream_and_the_officer_can_retry(store, pushing):
    refused, accepted = eligible_orders(2)
    # The store does not hold the order as fulfilled: it refuses to anonymize it.
    store.sql(
        "UPDATE orders_order SET shipping = 'unfulfilled', status = 'complete', payment = 'paid'"
        " WHERE id = %s",
        [refused],
    )
    orders_anonymize(order_ids=[refused, accepted], actor=pushing, via=Interface.WEB)

    failed = wait_for(lambda: list(pushes(state=UpstreamState.FAILED)), "the store's 422")[0]
    wait_for(lambda: pushes(state=UpstreamState.DONE).count() == 1, "the other order of the batch to land")
    assert failed.record_id == refused
    assert failed.error == (
        "422 Could not anonymize orders: Order has status: order:complete, payment:paid, "
        "shipping:unfulfilled; only fulfilled or refunded or cancelled orders may be anonymized"
    )
    upstream = store_masked(store, "orders_order", [refused, accepted])
    assert upstream[accepted] == ("**", True)
    assert upstream[refused][1] is False and upstream[refused][0] not in ("**", None)

    store.sql("UPDATE orders_order SET shipping = 'fulfilled' WHERE id = %s", [refused])
    assert upstream_push_retry(push_ids=[failed.pk]) == 1
    wait_for(lambda: pushes(state=UpstreamState.DONE).count() == 2, "the retried push to land")
    assert store_masked(store, "orders_order", [refused]) == {refused: ("**", True)}
