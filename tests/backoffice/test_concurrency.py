"""Races between anonymizations and status changes, on real parallel PostgreSQL connections.

The services lock the orders' rows (primary-key order) before they decide, so a
status change either commits before the decision (and the order is refused) or
waits until the anonymization has committed. `race_oracle` (a trigger, see
conftest) records any order written anonymized while its statuses or a legal
hold forbid it; every test ends with it empty.
"""

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.audit import Actor
from core.errors import BatchRefused, ConcurrentUpdate
from core.models import AuditAction, AuditRecord, Interface, RecordType
from orders.models import Order
from orders.services import legal_hold_place, orders_anonymize
from promotions.models import CodeUsage
from promotions.services import usages_anonymize
from tests.plugins.concurrency_faults_logs import LOCK_WAIT_SECONDS, Worker, wait_until_blocked

pytestmark = pytest.mark.django_db(transaction=True)

ACTOR = Actor.system("race-test")


def change_statuses_and_wait(order_id, ready: threading.Event, release: threading.Event, **statuses):
    """A status change that holds its row lock until released."""
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(**statuses, updated_at=timezone.now())
        ready.set()
        assert release.wait(LOCK_WAIT_SECONDS)


def anonymize_pausing_after_the_lock(order_ids, locked: threading.Event, release: threading.Event):
    """orders_anonymize, stopped right after it locked the orders and read their rule, until released."""

    def pause(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and '"anonymization_block"' in sql and not locked.is_set():
            locked.set()
            assert release.wait(LOCK_WAIT_SECONDS)
        return result

    with connection.execute_wrapper(pause):
        return orders_anonymize(order_ids=order_ids, actor=ACTOR, via=Interface.API)


def anonymize_orders(order_ids):
    return orders_anonymize(order_ids=order_ids, actor=ACTOR, via=Interface.API)


def audit_counts(record_type=RecordType.ORDER) -> Counter:
    return Counter(
        AuditRecord.objects.filter(action=AuditAction.ANONYMIZE, record_type=record_type).values_list(
            "record_id", flat=True
        )
    )


@pytest.mark.parametrize(
    "statuses",
    [
        {"shipping": "unfulfilled"},  # was fulfilled
        {"status": "complete"},  # was cancelled
        {"payment": "paid"},  # was refunded
    ],
    ids=["shipping", "status", "payment"],
)
def test_a_status_change_that_locks_first_makes_the_anonymization_refuse(make_order, race_oracle, statuses):
    eligible_by = {"shipping": "fulfilled", "status": "cancelled", "payment": "refunded"}
    key = next(iter(statuses))
    base = {"status": "complete", "payment": "paid", "shipping": "unfulfilled"} | {key: eligible_by[key]}
    order = make_order(**base)
    ready, release = threading.Event(), threading.Event()

    change = Worker(change_statuses_and_wait, order.pk, ready, release, **statuses)
    change.start()
    assert ready.wait(LOCK_WAIT_SECONDS)
    anonymize = Worker(anonymize_orders, [order.pk])
    anonymize.start()
    wait_until_blocked(anonymize, change)  # the anonymization waits for the status change...
    release.set()
    change.finish(), anonymize.finish()

    assert change.error is None
    assert isinstance(anonymize.error, BatchRefused), anonymize.error  # ...and then sees it
    assert [p.code for p in anonymize.error.problems] == ["not_eligible"]
    order.refresh_from_db()
    assert not order.anonymized and order.customer_email.endswith("@example.com")
    assert not audit_counts()
    assert race_oracle() == []


def test_an_anonymization_that_locks_first_makes_the_status_change_wait(make_order, race_oracle):
    order = make_order(shipping="fulfilled")
    locked, release = threading.Event(), threading.Event()

    anonymize = Worker(anonymize_pausing_after_the_lock, [order.pk], locked, release)
    anonymize.start()
    assert locked.wait(LOCK_WAIT_SECONDS)
    change = Worker(Order.objects.filter(pk=order.pk).update, shipping="unfulfilled")
    change.start()
    wait_until_blocked(change, anonymize)  # the status change cannot slip in between decision and write
    release.set()
    anonymize.finish(), change.finish()

    assert anonymize.error is None and change.error is None
    assert anonymize.result.changed == [order.pk]
    order.refresh_from_db()
    # Anonymized while fulfilled; the status change came after, as if the two had run one by one.
    assert order.anonymized and order.shipping == "unfulfilled"
    assert audit_counts() == {order.pk: 1}
    assert race_oracle() == []


def test_a_legal_hold_placed_first_makes_the_anonymization_refuse(make_order, race_oracle):
    order = make_order(shipping="fulfilled")
    ready, release = threading.Event(), threading.Event()

    def place_hold_and_wait():
        with transaction.atomic():
            legal_hold_place(
                order_id=order.pk,
                reason="chargeback window",
                ends_on=timezone.localdate() + timedelta(days=30),
                actor=ACTOR,
                via=Interface.ADMIN,
            )
            ready.set()
            assert release.wait(LOCK_WAIT_SECONDS)

    hold = Worker(place_hold_and_wait)
    hold.start()
    assert ready.wait(LOCK_WAIT_SECONDS)
    anonymize = Worker(anonymize_orders, [order.pk])
    anonymize.start()
    wait_until_blocked(anonymize, hold)
    release.set()
    hold.finish(), anonymize.finish()

    assert hold.error is None
    assert isinstance(anonymize.error, BatchRefused), anonymize.error
    assert [p.code for p in anonymize.error.problems] == ["legal_hold"]
    order.refresh_from_db()
    assert not order.anonymized
    assert not audit_counts()
    assert race_oracle() == []


def test_the_oracle_catches_an_anonymization_that_decides_before_locking(
    make_order, race_oracle, monkeypatch
):
    """The same race as above with the lock taken away: the order ends anonymized while unfulfilled.

    Shows the race tests can fail: without `select_for_update` the service reads
    the old statuses, then its UPDATE waits for the status change and writes anyway.
    """
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    order = make_order(shipping="fulfilled")
    locked, release = threading.Event(), threading.Event()

    anonymize = Worker(anonymize_pausing_after_the_lock, [order.pk], locked, release)
    anonymize.start()
    assert locked.wait(LOCK_WAIT_SECONDS)  # it has read "fulfilled", holding no lock
    Order.objects.filter(pk=order.pk).update(shipping="unfulfilled")  # commits at once
    release.set()
    anonymize.finish()

    assert anonymize.error is None
    assert [(row[0], row[3]) for row in race_oracle()] == [(order.pk, "unfulfilled")]


def test_parallel_overlapping_batches_and_status_changes_never_anonymize_an_ineligible_order(
    make_order, race_oracle
):
    orders = [make_order(shipping="fulfilled") for _ in range(16)]
    order_ids = [o.pk for o in orders]
    anonymizers, flippers = 4, 3
    start = threading.Barrier(anonymizers + flippers)
    calls: list[tuple[list, object]] = []  # (ids, Outcome or exception)

    def anonymize_batches(seed):
        rng = random.Random(seed)
        start.wait(LOCK_WAIT_SECONDS)
        for _ in range(8):
            batch = rng.sample(order_ids, rng.randint(1, 4))
            try:
                calls.append((batch, anonymize_orders(batch)))
            except Exception as exc:  # noqa: BLE001 - every outcome is checked below
                calls.append((batch, exc))

    def flip_statuses(seed):
        """Status changes as the EPCC mirror makes them: one order, or several locked in pk order."""
        rng = random.Random(seed)
        start.wait(LOCK_WAIT_SECONDS)
        for _ in range(20):
            shipping = rng.choice(["fulfilled", "unfulfilled"])
            if rng.random() < 0.5:
                Order.objects.filter(pk=rng.choice(order_ids)).update(shipping=shipping)
            else:
                with transaction.atomic():
                    chosen = rng.sample(order_ids, 3)
                    list(Order.objects.select_for_update().filter(pk__in=chosen).order_by("pk"))
                    Order.objects.filter(pk__in=chosen).update(shipping=shipping)

    workers = [Worker(anonymize_batches, seed) for seed in range(anonymizers)]
    workers += [Worker(flip_statuses, 100 + seed) for seed in range(flippers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.finish()

    assert [w.error for w in workers] == [None] * len(workers)
    unexpected = [exc for _, exc in calls if isinstance(exc, Exception) and not isinstance(exc, BatchRefused)]
    assert unexpected == [], "only a refusal may escape a race (no deadlock, no database error)"
    assert race_oracle() == []

    changed = [pk for _, outcome in calls if not isinstance(outcome, Exception) for pk in outcome.changed]
    assert changed, "no batch succeeded: the race was not exercised"
    assert len(changed) == len(set(changed)), "an order was changed twice"
    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == set(changed)
    assert audit_counts() == dict.fromkeys(changed, 1)


def test_parallel_overlapping_usage_batches_change_each_usage_exactly_once(make_usage, make_promotion):
    promotion = make_promotion(codes=())
    usage_ids = [make_usage(promotion=promotion).pk for _ in range(12)]
    threads = 5
    start = threading.Barrier(threads)

    def anonymize_batches(seed):
        rng = random.Random(seed)
        start.wait(LOCK_WAIT_SECONDS)
        outcomes = []
        for _ in range(6):
            batch = rng.sample(usage_ids, rng.randint(2, 6))
            outcome = usages_anonymize(usage_ids=batch, actor=ACTOR, via=Interface.API)
            assert sorted(outcome.changed + outcome.already_anonymized) == sorted(batch)
            outcomes.append(outcome)
        return outcomes

    workers = [Worker(anonymize_batches, seed) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.finish()

    assert [w.error for w in workers] == [None] * threads
    changed = [pk for w in workers for outcome in w.result for pk in outcome.changed]
    assert len(changed) == len(set(changed)), "a usage was changed twice"
    assert set(changed) <= set(usage_ids)
    assert set(CodeUsage.objects.filter(anonymized=True).values_list("pk", flat=True)) == set(changed)
    assert audit_counts(RecordType.CODE_USAGE) == dict.fromkeys(changed, 1)
    assert set(CodeUsage.objects.filter(pk__in=changed).values_list("customer_email", flat=True)) == {"**"}


def lock_in_reverse_order(first, second, first_locked: threading.Event, go: threading.Event):
    """Another program's transaction that locks two orders against primary-key order.

    Its own deadlock check waits a minute, so when the cycle closes PostgreSQL
    picks the anonymization (checking after the server's 1 s) as the victim.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '60s'")
        list(Order.objects.select_for_update().filter(pk=first))
        first_locked.set()
        assert go.wait(LOCK_WAIT_SECONDS)
        list(Order.objects.select_for_update().filter(pk=second))


def provoke_deadlock(make_order, anonymize_target):
    low, high = sorted(
        [make_order(shipping="fulfilled"), make_order(shipping="fulfilled")], key=lambda o: o.pk
    )
    first_locked, go = threading.Event(), threading.Event()
    other = Worker(lock_in_reverse_order, high.pk, low.pk, first_locked, go)
    other.start()
    assert first_locked.wait(LOCK_WAIT_SECONDS)
    anonymize = Worker(anonymize_target, [low.pk, high.pk])
    anonymize.start()
    wait_until_blocked(anonymize, other)  # holds `low`, waits for `high`
    go.set()  # `other` now waits for `low`: a cycle
    other.finish(), anonymize.finish()
    assert other.error is None
    return low, high, anonymize


def test_a_deadlock_is_retried_and_the_batch_goes_through(make_order, race_oracle):
    low, high, anonymize = provoke_deadlock(make_order, anonymize_orders)

    assert anonymize.error is None, anonymize.error
    assert sorted(anonymize.result.changed) == [low.pk, high.pk]
    assert audit_counts() == {low.pk: 1, high.pk: 1}
    assert race_oracle() == []


def test_a_deadlock_inside_an_outer_transaction_is_a_conflict_error_and_changes_nothing(make_order):
    def anonymize_in_outer_transaction(order_ids):
        with transaction.atomic():  # as the privacy pages' erasure request does
            return anonymize_orders(order_ids)

    low, high, anonymize = provoke_deadlock(make_order, anonymize_in_outer_transaction)

    assert isinstance(anonymize.error, ConcurrentUpdate), anonymize.error
    assert anonymize.error.status == 409
    assert isinstance(anonymize.error.__cause__, OperationalError)
    assert not Order.objects.filter(anonymized=True).exists()
    assert not audit_counts()


def test_parallel_api_requests_with_overlapping_batches_never_answer_500(make_order, officer, race_oracle):
    """The same race through HTTP: every answer is a 200, a 422 refusal or a 409, never a 500."""
    from django.test import Client

    from core.api_keys import api_key_create

    orders = [make_order(shipping="fulfilled") for _ in range(10)]
    order_ids = [str(o.pk) for o in orders]
    _, token = api_key_create(name="race", user=officer)
    clients, flippers = 4, 2
    start = threading.Barrier(clients + flippers)
    answers: list[tuple[list, int, dict]] = []

    def post_batches(seed):
        rng = random.Random(seed)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
        start.wait(LOCK_WAIT_SECONDS)
        for _ in range(6):
            batch = rng.sample(order_ids, rng.randint(1, 4))
            answer = client.post(
                "/v2/orders/anonymize", {"data": {"order_ids": batch}}, content_type="application/json"
            )
            answers.append((batch, answer.status_code, answer.json()))

    def flip_statuses(seed):
        rng = random.Random(seed)
        start.wait(LOCK_WAIT_SECONDS)
        for _ in range(15):
            Order.objects.filter(pk=rng.choice(order_ids)).update(
                shipping=rng.choice(["fulfilled", "unfulfilled"])
            )

    workers = [Worker(post_batches, seed) for seed in range(clients)]
    workers += [Worker(flip_statuses, 50 + seed) for seed in range(flippers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.finish()

    assert [w.error for w in workers] == [None] * len(workers)
    assert {status for _, status, _ in answers} <= {200, 409, 422}, answers
    assert race_oracle() == []
    for _, status, body in answers:
        if status != 200:
            assert set(body) == {"errors"}
    anonymized = set(Order.objects.filter(anonymized=True).values_list("pk", flat=True))
    assert audit_counts() == dict.fromkeys(anonymized, 1)


# --- The EPCC mirror's import racing an anonymization ------------------------------------------


def reimported(order, **statuses):
    """The order as EPCC would send it again (its personal values intact), with new statuses."""
    from epcc.documents.orders import order_document
    from epcc.importing.orders import order_from_epcc

    document = order_document(order.pk) | statuses
    return order_from_epcc(document)


def test_an_import_that_locks_first_makes_the_anonymization_refuse(make_order, race_oracle):
    from epcc.importing.orders import orders_upsert

    order = make_order(shipping="fulfilled")
    parsed = reimported(order, shipping="unfulfilled")
    ready, release = threading.Event(), threading.Event()

    def import_and_wait():
        with transaction.atomic():
            orders_upsert(orders=[parsed])
            ready.set()
            assert release.wait(LOCK_WAIT_SECONDS)

    importer = Worker(import_and_wait)
    importer.start()
    assert ready.wait(LOCK_WAIT_SECONDS)
    anonymize = Worker(anonymize_orders, [order.pk])
    anonymize.start()
    wait_until_blocked(anonymize, importer)
    release.set()
    importer.finish(), anonymize.finish()

    assert importer.error is None
    assert isinstance(anonymize.error, BatchRefused), anonymize.error
    order.refresh_from_db()
    assert not order.anonymized and order.shipping == "unfulfilled"
    assert race_oracle() == []


def test_an_import_waiting_behind_an_anonymization_never_brings_personal_values_back(make_order, race_oracle):
    """The import carries the old personal values; it must see the order anonymized and keep the mask."""
    from epcc.importing.orders import orders_upsert
    from orders.models import OrderAddress, OrderCustomAttribute

    order = make_order(shipping="fulfilled")
    parsed = reimported(order, shipping="unfulfilled")
    locked, release = threading.Event(), threading.Event()

    anonymize = Worker(anonymize_pausing_after_the_lock, [order.pk], locked, release)
    anonymize.start()
    assert locked.wait(LOCK_WAIT_SECONDS)
    importer = Worker(orders_upsert, orders=[parsed])
    importer.start()
    wait_until_blocked(importer, anonymize)
    release.set()
    anonymize.finish(), importer.finish()

    assert anonymize.error is None and importer.error is None
    assert importer.result.kept_anonymized == 1
    order.refresh_from_db()
    assert order.anonymized and order.shipping == "unfulfilled"  # the import's news, after the mask
    assert {order.customer_name, order.customer_email, order.contact_name, order.contact_email} == {"**"}
    assert set(OrderAddress.objects.filter(order=order).values_list("line_1", flat=True)) == {"**"}
    assert set(OrderCustomAttribute.objects.filter(order=order).values_list("value", flat=True)) == {"**"}
    assert audit_counts() == {order.pk: 1}
    assert race_oracle() == []
