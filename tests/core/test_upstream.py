"""The outbox to the EPCC store (core.upstream, written by core.audit): one row per anonymized
record, in the anonymization's transaction, only with a store configured; states; retry."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.audit import audit_records_create
from core.models import AuditAction, Interface, RecordType, UpstreamPush, UpstreamState
from core.upstream import NOT_PUSHED, upstream_push_retry, upstream_state_text, upstream_states
from orders.services import orders_anonymize
from promotions.services import usages_anonymize

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_configured(settings):
    settings.EPCC_API_BASE_URL = "http://127.0.0.1:9"
    settings.EPCC_CLIENT_ID = "1234"
    settings.EPCC_CLIENT_SECRET = "a-secret"


def test_no_outbox_without_a_store(make_order, actor):
    orders_anonymize(order_ids=[make_order().pk], actor=actor, via=Interface.API)
    assert not UpstreamPush.objects.exists()


def test_half_a_store_is_no_store(make_order, actor, settings, store_configured):
    settings.EPCC_CLIENT_SECRET = ""
    orders_anonymize(order_ids=[make_order().pk], actor=actor, via=Interface.API)
    assert not UpstreamPush.objects.exists()


def test_every_anonymized_record_gets_one_pending_push_with_its_audit_batch(
    make_order, make_usage, actor, store_configured
):
    orders = [make_order(), make_order()]
    already = make_order(anonymized=True, customer_email="**")
    usage = make_usage()
    outcome = orders_anonymize(order_ids=[o.pk for o in [*orders, already]], actor=actor, via=Interface.WEB)
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.WEB)
    rows = list(
        UpstreamPush.objects.order_by("id").values_list("record_type", "record_id", "state", "attempts")
    )
    # The order already anonymized changed nothing, left no audit record and is not pushed again.
    assert sorted(rows) == sorted(
        [(RecordType.ORDER, o.pk, UpstreamState.PENDING, 0) for o in orders]
        + [(RecordType.CODE_USAGE, usage.pk, UpstreamState.PENDING, 0)]
    )
    assert set(
        UpstreamPush.objects.filter(record_type=RecordType.ORDER).values_list("batch_id", flat=True)
    ) == {outcome.batch_id}


def test_the_outbox_costs_no_statement_of_its_own(make_order, actor, settings, store_configured):
    def statements(**overrides):
        ids = [make_order().pk for _ in range(3)]
        with CaptureQueriesContext(connection) as queries:
            orders_anonymize(order_ids=ids, actor=actor, via=Interface.API)
        return len(queries)

    with_store = statements()
    settings.EPCC_API_BASE_URL = ""
    assert statements() == with_store
    assert UpstreamPush.objects.count() == 3


def test_the_outbox_rolls_back_with_the_anonymization(make_order, actor, store_configured):
    order = make_order()
    with pytest.raises(RuntimeError), transaction.atomic():
        orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
        raise RuntimeError("the caller's transaction fails after the service")
    assert not UpstreamPush.objects.exists()
    order.refresh_from_db()
    assert not order.anonymized


def test_legal_holds_are_not_pushed(actor, store_configured):
    audit_records_create(
        actor=actor,
        via=Interface.ADMIN,
        record_type=RecordType.ORDER,
        changed_fields={uuid.uuid4(): []},
        at=timezone.now(),
        action=AuditAction.HOLD_PLACED,
    )
    assert not UpstreamPush.objects.exists()


def test_the_outbox_holds_no_personal_value(make_order, make_usage, actor, store_configured):
    order, usage = make_order(), make_usage()
    values = [order.customer_email, order.customer_name, order.contact_email, usage.customer_email]
    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(p)::text FROM core_upstreampush p")
        text = " ".join(row[0] for row in cursor.fetchall())
    assert text and not [value for value in values if value in text]


def test_states_are_read_in_one_query_latest_first(make_order):
    done, failed, pending, never = (uuid.uuid4() for _ in range(4))
    batch = uuid.uuid4()
    UpstreamPush.objects.bulk_create(
        [
            UpstreamPush(
                record_type=RecordType.ORDER, record_id=done, batch_id=batch, state=UpstreamState.DONE
            ),
            UpstreamPush(
                record_type=RecordType.ORDER,
                record_id=failed,
                batch_id=batch,
                state=UpstreamState.FAILED,
                error="422 Could not anonymize orders: Order has status: ...",
            ),
            UpstreamPush(
                record_type=RecordType.ORDER,
                record_id=pending,
                batch_id=batch,
                attempts=2,
                error="not sent yet: could not reach the store (ConnectError: refused)",
            ),
            UpstreamPush(record_type=RecordType.CODE_USAGE, record_id=never, batch_id=batch),
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        states = upstream_states(RecordType.ORDER, [done, failed, pending, never])
    assert len(queries) == 1
    assert {pk: s.state for pk, s in states.items()} == {done: "done", failed: "failed", pending: "pending"}
    assert upstream_state_text(states[done]) == "Done: anonymized in the store"
    assert upstream_state_text(states[failed]).startswith("Failed upstream: 422 Could not anonymize orders")
    assert upstream_state_text(states[pending]) == (
        "Pending: to be sent to the store (2 attempts so far; not sent yet: could not reach the store "
        "(ConnectError: refused))"
    )
    assert upstream_state_text(states.get(never)) == NOT_PUSHED


def test_retry_makes_failed_pushes_pending_and_leaves_the_rest(store_configured):
    batch = uuid.uuid4()
    failed, done = UpstreamPush.objects.bulk_create(
        [
            UpstreamPush(
                record_type=RecordType.ORDER,
                record_id=uuid.uuid4(),
                batch_id=batch,
                state=UpstreamState.FAILED,
                attempts=1,
                error="422 ...",
            ),
            UpstreamPush(record_type=RecordType.ORDER, record_id=uuid.uuid4(), batch_id=batch, state="done"),
        ]
    )
    assert upstream_push_retry(push_ids=[failed.pk, done.pk]) == 1
    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.state, failed.attempts, failed.error) == ("pending", 0, "")
    assert done.state == "done"
