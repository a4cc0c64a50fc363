import itertools
import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core.errors import ORDER_NOT_ELIGIBLE_DETAIL, BatchRefused
from core.models import AuditAction, AuditRecord, Interface
from epcc.documents.orders import masked_documents
from orders.models import (
    ANONYMIZABLE,
    BILLING_ADDRESS_FIELDS,
    MONEY_FIELDS,
    SHIPPING_ADDRESS_FIELDS,
    AnonymizationBlock,
    LegalHold,
    Order,
    OrderStatus,
    PaymentStatus,
    ShippingStatus,
    statuses_allow_anonymization,
)
from orders.services import (
    legal_hold_place,
    legal_hold_release,
    orders_anonymization_review,
    orders_anonymize,
)

ALL_COMBINATIONS = list(itertools.product(OrderStatus.values, PaymentStatus.values, ShippingStatus.values))


def snapshot(order: Order) -> dict:
    order.refresh_from_db()
    return {
        "order": {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields},
        "addresses": {a["kind"]: a for a in order.addresses.values()},
        "attributes": {a.name: a.value for a in order.custom_attributes.all()},
        "items": list(order.items.values()),
    }


def test_rule_is_fulfilled_or_cancelled_or_refunded():
    allowed = {
        c for c in ALL_COMBINATIONS if statuses_allow_anonymization(status=c[0], payment=c[1], shipping=c[2])
    }
    expected = {
        c for c in ALL_COMBINATIONS if c[0] == "cancelled" or c[1] == "refunded" or c[2] == "fulfilled"
    }
    assert allowed == expected


# Legal holds an order may carry, and whether one of them is in force today.
HOLD_CASES = {
    "none": False,
    "open-ended": True,
    "ends today": True,
    "ended yesterday": False,
    "released": False,
}


def _give_hold(order, case):
    today = timezone.localdate()
    if case == "open-ended":
        LegalHold.objects.create(order=order, reason="Tax retention")
    elif case == "ends today":
        LegalHold.objects.create(order=order, reason="Chargeback window", ends_on=today)
    elif case == "ended yesterday":
        LegalHold.objects.create(order=order, reason="Chargeback window", ends_on=today - timedelta(days=1))
    elif case == "released":
        LegalHold.objects.create(order=order, reason="Fraud check", released_at=timezone.now())


def test_the_annotation_and_the_python_rule_agree_on_every_combination(make_order):
    """Every status combination, anonymized or not, under every kind of hold."""
    expected, allowed = {}, set()
    for (s, p, sh), anonymized, case in itertools.product(ALL_COMBINATIONS, (False, True), HOLD_CASES):
        order = make_order(
            status=s, payment=p, shipping=sh, anonymized=anonymized, addresses=False, attributes={}, items=0
        )
        _give_hold(order, case)
        if statuses_allow_anonymization(status=s, payment=p, shipping=sh):
            allowed.add(order.pk)
        if anonymized:
            expected[order.pk] = AnonymizationBlock.ANONYMIZED
        elif order.pk not in allowed:
            expected[order.pk] = AnonymizationBlock.STATUSES
        elif HOLD_CASES[case]:
            expected[order.pk] = AnonymizationBlock.LEGAL_HOLD
        else:
            expected[order.pk] = None

    annotated = dict(Order.objects.with_anonymization_block().values_list("pk", "anonymization_block"))
    assert annotated == expected
    for block in (None, *AnonymizationBlock.values):
        assert set(Order.objects.blocked_by(block).values_list("pk", flat=True)) == {
            pk for pk, expected_block in expected.items() if expected_block == block
        }, block
    assert set(Order.objects.anonymizable_now().values_list("pk", flat=True)) == {
        pk for pk, block in expected.items() if block is None
    }
    assert set(Order.objects.filter(ANONYMIZABLE).values_list("pk", flat=True)) == allowed
    # all 48 combinations but the 15 refused ones, not anonymized, under no hold in force (3 cases)
    assert sum(block is None for block in expected.values()) == (4 * 6 * 2 - 3 * 5 * 1) * 3


def test_the_review_reads_the_annotation(make_order):
    """The service's review classifies every order as its annotation does."""
    orders = {}
    for (s, p, sh), anonymized, case in itertools.product(ALL_COMBINATIONS, (False, True), HOLD_CASES):
        order = make_order(
            status=s, payment=p, shipping=sh, anonymized=anonymized, addresses=False, attributes={}, items=0
        )
        _give_hold(order, case)
        orders[order.pk] = order

    review = orders_anonymization_review(order_ids=list(orders))

    by_review = dict.fromkeys(review.eligible)
    by_review |= dict.fromkeys(review.already_anonymized, AnonymizationBlock.ANONYMIZED)
    codes = {"not_eligible": AnonymizationBlock.STATUSES, "legal_hold": AnonymizationBlock.LEGAL_HOLD}
    by_review |= {pk: codes[problem.code] for pk, problem in review.problems.items()}
    annotated = Order.objects.with_anonymization_block().values_list("pk", "anonymization_block")
    assert by_review == dict(annotated)


def test_masks_every_personal_field_and_keeps_everything_else(make_order, actor):
    order = make_order(status="cancelled", payment="unpaid", shipping="unfulfilled")
    before = snapshot(order)

    outcome = orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)

    after = snapshot(order)
    assert outcome.changed == [order.pk]
    for name in ("customer_name", "customer_email", "contact_name", "contact_email"):
        assert after["order"][name] == "**"
    assert after["order"]["anonymized"] is True
    assert after["order"]["updated_at"] > before["order"]["updated_at"]
    untouched = set(before["order"]) - {
        "customer_name",
        "customer_email",
        "contact_name",
        "contact_email",
        "anonymized",
        "updated_at",
    }
    assert {k: after["order"][k] for k in untouched} == {k: before["order"][k] for k in untouched}
    assert {"status", "payment", "shipping", "created_at", "customer_id", *MONEY_FIELDS} <= untouched
    for name in SHIPPING_ADDRESS_FIELDS:
        assert after["addresses"]["shipping"][name] == "**"
    for name in BILLING_ADDRESS_FIELDS:
        assert after["addresses"]["billing"][name] == "**"
    assert after["attributes"] == {"gift_message": "**"}
    assert after["items"] == before["items"]


def test_empty_and_missing_values_stay_as_they_are(make_order, actor):
    order = make_order(contact_name=None, contact_email="", attributes={"note": "", "flag": None, "n": 7})
    order.addresses.filter(kind="shipping").update(line_2="", region=None)

    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.ADMIN)

    order.refresh_from_db()
    assert order.contact_name is None and order.contact_email == ""
    shipping = order.addresses.get(kind="shipping")
    assert shipping.line_2 == "" and shipping.region is None and shipping.line_1 == "**"
    assert dict(order.custom_attributes.values_list("name", "value")) == {"note": "", "flag": None, "n": "**"}
    assert "contact.email" not in AuditRecord.objects.get(record_id=order.pk).fields


@override_settings(PRIVACY_MASK="[removed]")
def test_the_mask_is_a_setting(make_order, actor):
    order = make_order()
    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    order.refresh_from_db()
    assert order.customer_email == "[removed]"


@pytest.mark.parametrize(
    "status,payment,shipping",
    [c for c in ALL_COMBINATIONS if not (c[0] == "cancelled" or c[1] == "refunded" or c[2] == "fulfilled")],
)
def test_refuses_orders_whose_statuses_do_not_allow_it(make_order, actor, status, payment, shipping):
    order = make_order(status=status, payment=payment, shipping=shipping)
    before = snapshot(order)

    with pytest.raises(BatchRefused) as refused:
        orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)

    (problem,) = refused.value.problems
    assert refused.value.status == 422
    assert problem.title == "Could not anonymize orders"
    assert problem.detail == ORDER_NOT_ELIGIBLE_DETAIL.format(
        status=status, payment=payment, shipping=shipping
    )
    assert problem.meta == {"order_id": str(order.pk)}
    assert snapshot(order) == before
    assert not AuditRecord.objects.exists()


def test_seed_error_text_exactly(make_order, actor):
    order = make_order(status="complete", payment="paid", shipping="unfulfilled")
    with pytest.raises(BatchRefused) as refused:
        orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    assert refused.value.problems[0].detail == (
        "Order has status: order:complete, payment:paid, shipping:unfulfilled; "
        "only fulfilled or refunded or cancelled orders may be anonymized"
    )


def test_batch_is_all_or_nothing(make_order, actor):
    good = make_order()
    bad = make_order(shipping="unfulfilled")
    unknown = uuid.uuid4()
    before = snapshot(good)

    with pytest.raises(BatchRefused) as refused:
        orders_anonymize(order_ids=[good.pk, unknown, bad.pk], actor=actor, via=Interface.API)

    assert refused.value.status == 404  # unknown ids win, every problem listed
    assert [p.meta["order_id"] for p in refused.value.problems] == [str(unknown), str(bad.pk)]
    assert [p.status for p in refused.value.problems] == [404, 422]
    assert snapshot(good) == before


def test_already_anonymized_is_accepted_and_left_alone(make_order, actor):
    order = make_order()
    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    first = snapshot(order)

    outcome = orders_anonymize(order_ids=[order.pk, order.pk], actor=actor, via=Interface.API)

    assert outcome.changed == [] and outcome.already_anonymized == [order.pk]
    assert snapshot(order) == first
    assert AuditRecord.objects.count() == 1


def test_an_anonymized_order_stays_anonymized_even_if_its_status_changes(make_order, actor):
    order = make_order()
    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    Order.objects.filter(pk=order.pk).update(shipping="unfulfilled")
    outcome = orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    assert outcome.already_anonymized == [order.pk]


def test_audit_record_names_fields_never_values(make_order, actor):
    order = make_order(status="cancelled")
    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.WEB)

    record = AuditRecord.objects.get()
    assert record.actor == "officer" and record.actor_user == actor.user and record.interface == "web"
    assert record.record_type == "order" and record.record_id == order.pk
    assert "customer.email" in record.fields and "shipping_address.phone_number" in record.fields
    assert "billing_address.phone_number" not in record.fields
    assert "custom_attributes.gift_message.value" in record.fields
    text = str(list(AuditRecord.objects.values()))
    assert "@example.com" not in text and "Lovelace" not in text and "Byron" not in text


def test_legal_hold_refuses_until_released(make_order, actor):
    order = make_order()
    ends = timezone.localdate() + timedelta(days=30)
    hold = legal_hold_place(
        order_id=order.pk, reason="Chargeback window", ends_on=ends, actor=actor, via=Interface.WEB
    )

    with pytest.raises(BatchRefused) as refused:
        orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    (problem,) = refused.value.problems
    assert problem.status == 422 and problem.code == "legal_hold"
    assert "Chargeback window" in problem.detail and ends.isoformat() in problem.detail
    assert problem.meta["order_id"] == str(order.pk)

    legal_hold_release(hold_id=hold.pk, reason="Case closed", actor=actor, via=Interface.WEB)
    assert orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API).changed == [order.pk]


def test_a_hold_release_needs_a_reason_and_its_audit_record_keeps_it(make_order, actor):
    order = make_order()
    hold = legal_hold_place(order_id=order.pk, reason="Tax", ends_on=None, actor=actor, via=Interface.WEB)

    with pytest.raises(ValueError, match="needs a reason"):
        legal_hold_release(hold_id=hold.pk, reason=" ", actor=actor, via=Interface.WEB)
    hold.refresh_from_db()
    assert hold.released_at is None
    legal_hold_release(hold_id=hold.pk, reason="Audit closed", actor=actor, via=Interface.WEB)

    notes = dict(AuditRecord.objects.filter(record_id=order.pk).values_list("action", "note"))
    assert notes == {AuditAction.HOLD_PLACED: "Tax", AuditAction.HOLD_RELEASED: "Audit closed"}


def test_a_refusal_says_in_plain_words_what_to_do_and_keeps_epccs_text_for_the_api(make_order, actor):
    open_order = make_order(status="processing", payment="partially_paid", shipping="unfulfilled")
    held = make_order()
    legal_hold_place(order_id=held.pk, reason="Tax", ends_on=None, actor=actor, via=Interface.WEB)

    review = orders_anonymization_review(order_ids=[open_order.pk, held.pk])

    statuses, hold = review.problems[open_order.pk], review.problems[held.pk]
    assert statuses.detail.startswith("Order has status: order:processing, payment:partially_paid")
    assert str(statuses) == (
        "Not yet: this order is still open (being processed, partly paid, not shipped). It can be "
        "anonymized once it has shipped; to anonymize it sooner, cancel or refund it in EPCC first, "
        "then try again."
    )
    assert hold.detail.startswith("Order is under legal hold until further notice (Tax)")
    assert str(hold).startswith("Not while the legal hold lasts (until further notice: Tax).")
    assert "release the hold" in str(hold)


def test_a_hold_past_its_end_no_longer_holds(make_order, actor):
    order = make_order()
    hold = legal_hold_place(order_id=order.pk, reason="Tax", ends_on=None, actor=actor, via=Interface.WEB)
    type(hold).objects.filter(pk=hold.pk).update(ends_on=timezone.localdate() - timedelta(days=1))
    assert orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API).changed == [order.pk]


def test_a_held_order_that_is_not_eligible_reports_its_statuses(make_order, actor):
    order = make_order(shipping="unfulfilled")
    legal_hold_place(order_id=order.pk, reason="Tax", ends_on=None, actor=actor, via=Interface.WEB)
    with pytest.raises(BatchRefused) as refused:
        orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    assert refused.value.problems[0].code == "not_eligible"


def test_rejects_ids_that_are_not_uuids(actor):
    with pytest.raises(ValueError):
        orders_anonymize(order_ids=["not-a-uuid"], actor=actor, via=Interface.API)


@pytest.mark.parametrize("size", [1, 500])
def test_a_batch_is_a_fixed_handful_of_queries(make_order, actor, django_assert_num_queries, size):
    ids = [make_order(items=0).pk for _ in range(size)]
    # The savepoint and its release (the test's transaction), the lock, the rule,
    # the masking statement (documents too when asked), the audit INSERT.
    with django_assert_num_queries(6):
        outcome = orders_anonymize(
            order_ids=ids, actor=actor, via=Interface.API, returning=masked_documents()
        )
    assert len(outcome.changed) == size
    assert AuditRecord.objects.count() == size


def test_a_batch_larger_than_one_chunk_is_still_one_all_or_nothing_batch(make_order, actor, monkeypatch):
    import core.batches

    monkeypatch.setattr(core.batches, "CHUNK_SIZE", 3)
    monkeypatch.setattr(core.batches, "ARRAY_CHUNK_SIZE", 3)
    orders = [make_order() for _ in range(7)]
    refused = make_order(shipping="unfulfilled")

    with pytest.raises(BatchRefused):
        orders_anonymize(order_ids=[o.pk for o in [*orders, refused]], actor=actor, via=Interface.API)
    assert not Order.objects.filter(anonymized=True).exists()

    outcome = orders_anonymize(order_ids=[o.pk for o in orders], actor=actor, via=Interface.API)
    assert len(outcome.changed) == 7
    assert Order.objects.filter(anonymized=True, customer_email="**").count() == 7
    assert AuditRecord.objects.count() == 7


def test_audit_fields_are_exactly_the_fields_the_review_says_the_mask_changes(make_order, actor):
    """The audit names fields from its own masking statement: held to the review's names."""
    orders = [
        make_order(),
        make_order(customer_name="", contact_email=None, addresses=False, attributes={}),
        make_order(attributes={"a": None, "b": "", "c": 0, "d": {"x": 1}, "é-name": ["list"]}),
        make_order(status="cancelled", attributes={"gift_message": "Hi", "notes": "Ring twice"}),
        # Two orders with the same fields (PostgreSQL reports them as one group), and one
        # with a billing address only.
        make_order(),
        make_order(),
        make_order(),
    ]
    orders[-1].addresses.filter(kind="shipping").delete()
    # An address with empty and missing values, and a billing row holding shipping-only columns.
    orders[0].addresses.filter(kind="shipping").update(line_2="", county=None, instructions="")
    orders[0].addresses.filter(kind="billing").update(phone_number="+44 20 0000 0000", instructions="x")
    ids = [order.pk for order in orders]
    review = orders_anonymization_review(order_ids=ids)
    expected = {pk: sorted(fields) for pk, fields in review.eligible.items()}

    outcome = orders_anonymize(order_ids=ids, actor=actor, via=Interface.API)

    written = dict(AuditRecord.objects.filter(batch_id=outcome.batch_id).values_list("record_id", "fields"))
    assert written == expected
    assert "billing_address.phone_number" not in written[orders[0].pk]
    assert "shipping_address.line_2" not in written[orders[0].pk]
    assert "custom_attributes.c.value" in written[orders[2].pk]
    assert "custom_attributes.a.value" not in written[orders[2].pk]
    assert written[orders[4].pk] == written[orders[5].pk]
    assert not any(name.startswith("shipping_address.") for name in written[orders[6].pk])
    assert "billing_address.first_name" in written[orders[6].pk]


def test_the_masking_statement_is_one_text_its_mask_and_time_parameters(make_order, actor, settings):
    """orders.masking_sql composes its text once; the mask, the time and the ids reach it as parameters."""
    from orders.masking_sql import mask_orders_sql

    text = mask_orders_sql()
    assert all(name in text for name in ("%(mask)s", "%(now)s", "%(order_ids)s"))
    for mask in ("**", "[removed]"):
        settings.PRIVACY_MASK = mask
        order = make_order(attributes={"gift_message": "Hi"})
        outcome = orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
        order.refresh_from_db()
        assert (
            order.customer_email == mask
            and order.updated_at == AuditRecord.objects.get(batch_id=outcome.batch_id).at
        )
        assert order.addresses.get(kind="shipping").line_1 == mask
        assert order.custom_attributes.get().value == mask
        assert mask not in mask_orders_sql()
    assert mask_orders_sql() is text


@pytest.mark.django_db(transaction=True)  # the service's own transaction, not a test's around it
def test_a_large_chunk_tunes_its_own_transaction_only(make_order, actor, monkeypatch):
    """From LARGE_CHUNK orders the masking raises work_mem and turns JIT off until its transaction ends."""
    from django.db import connection

    import orders.masking_sql

    monkeypatch.setattr(orders.masking_sql, "LARGE_CHUNK", 2)
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]
    orders = [make_order() for _ in range(2)]
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        outcome = orders_anonymize(order_ids=[o.pk for o in orders], actor=actor, via=Interface.API)
    assert "SET LOCAL work_mem = '64MB'" in seen and "SET LOCAL jit = off" in seen
    assert len(outcome.changed) == 2 and AuditRecord.objects.filter(batch_id=outcome.batch_id).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == before
