"""The erasure request case file's services: create, settle, follow up, extend, reject, cancel, exclude."""

import uuid
from datetime import date

import pytest
from django.utils import timezone

from core.models import AuditRecord, ErasureRequest, Interface, Job
from erasure.models import ErasureRequestItem, ItemState, WaitReason
from erasure.selectors import erasure_request_receipt
from erasure.services import (
    ErasureRequestClosed,
    erasure_request_cancel,
    erasure_request_create,
    erasure_request_extend,
    erasure_request_follow_up,
    erasure_request_item_exclude,
    erasure_request_reject,
    erasure_requests_attach_new_records,
)
from erasure.subjects import SubjectError, subject_key
from orders.models import LegalHold, Order


def create(subject, actor, **overrides):
    values = {
        "resource_type": "email",
        "resource_id": subject.email,
        "reference": "TICKET-1",
        "actor": actor,
        "via": Interface.WEB,
    } | overrides
    return erasure_request_create(**values)


def states(erasure_request):
    return {item.record_id: item.state for item in erasure_request.items.all()}


def test_a_request_keeps_a_keyed_hash_of_the_email_never_the_email(subject, actor):
    erasure_request = create(subject, actor, resource_id="  GRACE.hopper@example.COM ")

    assert erasure_request.subject_key == subject_key("grace.hopper@example.com")
    assert erasure_request.resource_type == "email"
    assert erasure_request.resource_id == ""
    row = ErasureRequest.objects.filter(pk=erasure_request.pk).values().get()
    assert not any("grace" in str(value).lower() for value in row.values())


def test_an_id_request_keeps_the_id(subject, actor):
    erasure_request = create(
        subject, actor, resource_type="customer", resource_id=str(subject.customer_id).upper()
    )

    assert erasure_request.resource_id == str(subject.customer_id)
    assert erasure_request.subject_key == subject_key(str(subject.customer_id))


def test_the_due_date_is_one_calendar_month_after_receipt(subject, actor):
    erasure_request = create(subject, actor, received_on=date(2024, 1, 31))

    assert erasure_request.due_on == date(2024, 2, 29)
    assert erasure_request.status == "open"


def test_create_finds_the_subjects_records_and_queues_one_job(subject, actor, make_order):
    make_order(customer_email="someone.else@example.com")

    erasure_request = create(subject, actor)

    assert states(erasure_request) == {
        subject.shipped.pk: ItemState.PENDING,
        subject.unpaid.pk: ItemState.PENDING,
        subject.usage.pk: ItemState.PENDING,
    }
    assert Job.objects.filter(kind="erasure.request").count() == 1
    assert not Order.objects.filter(anonymized=True).exists()  # nothing before the job runs


def test_the_job_anonymizes_the_eligible_and_marks_the_rest_waiting_with_why(subject, actor, run_jobs):
    erasure_request = run_jobs(create(subject, actor))

    assert erasure_request.status == "waiting"
    items = {item.record_id: item for item in erasure_request.items.all()}
    assert items[subject.shipped.pk].state == ItemState.ANONYMIZED
    assert items[subject.usage.pk].state == ItemState.ANONYMIZED
    waiting = items[subject.unpaid.pk]
    assert waiting.state == ItemState.WAITING
    assert waiting.wait_reason == WaitReason.STATUSES
    assert "payment: unpaid" in waiting.reason
    audit = AuditRecord.objects.filter(erasure_request=erasure_request)
    assert {record.record_id for record in audit} == {subject.shipped.pk, subject.usage.pk}
    assert items[subject.shipped.pk].batch_id == audit.get(record_id=subject.shipped.pk).batch_id


def test_officer_scenario_shipped_later_and_the_follow_up_completes_it(subject, actor, run_jobs):
    """Done when: one shipped and one unpaid order -> waiting; the receipt names the unpaid one and why;
    the order is shipped and paid (import); the follow-up completes the request by itself."""
    erasure_request = run_jobs(create(subject, actor))
    receipt = erasure_request_receipt(erasure_request)
    assert [line.record_id for line in receipt.waiting] == [subject.unpaid.pk]
    assert "not yet fulfilled" in receipt.waiting[0].reason.lower()

    Order.objects.filter(pk=subject.unpaid.pk).update(payment="paid", shipping="fulfilled")
    assert erasure_request_follow_up() == 1

    erasure_request.refresh_from_db()
    assert erasure_request.status == "completed"
    assert erasure_request.closed_at is not None
    assert Order.objects.get(pk=subject.unpaid.pk).anonymized
    assert AuditRecord.objects.get(record_id=subject.unpaid.pk).erasure_request == erasure_request


def test_a_held_order_waits_with_the_hold_and_its_end(subject, actor, run_jobs):
    ends = date(2030, 1, 1)
    LegalHold.objects.create(order=subject.shipped, reason="Chargeback window", ends_on=ends)

    erasure_request = run_jobs(create(subject, actor))

    item = erasure_request.items.get(record_id=subject.shipped.pk)
    assert (item.state, item.wait_reason, item.waiting_until) == (
        ItemState.WAITING,
        WaitReason.LEGAL_HOLD,
        ends,
    )
    assert "Chargeback window" in item.reason


def test_follow_up_changes_nothing_while_records_still_wait(
    subject, actor, run_jobs, django_assert_max_num_queries
):
    erasure_request = run_jobs(create(subject, actor))

    assert erasure_request_follow_up() == 0
    erasure_request.refresh_from_db()
    assert erasure_request.status == "waiting"


def test_excluding_the_last_waiting_item_completes_the_request(subject, actor, run_jobs):
    erasure_request = run_jobs(create(subject, actor))
    item = erasure_request.items.get(record_id=subject.unpaid.pk)

    erasure_request_item_exclude(item_id=item.pk, reason="Needed for an open dispute", actor=actor)

    erasure_request.refresh_from_db()
    assert erasure_request.status == "completed"
    item.refresh_from_db()
    assert (item.state, item.reason) == (ItemState.EXCLUDED, "Needed for an open dispute")


def test_an_anonymized_item_cannot_be_excluded(subject, actor, run_jobs):
    erasure_request = run_jobs(create(subject, actor))
    item = erasure_request.items.get(record_id=subject.shipped.pk)

    with pytest.raises(ValueError, match="already anonymized"):
        erasure_request_item_exclude(item_id=item.pk, reason="x", actor=actor)


def test_extend_once_by_up_to_two_months_with_a_reason(subject, actor):
    erasure_request = create(subject, actor, received_on=date(2024, 1, 15))

    with pytest.raises(ValueError, match="reason"):
        erasure_request_extend(erasure_request_id=erasure_request.pk, months=2, reason=" ", actor=actor)
    with pytest.raises(ValueError, match="1 to 2 months"):
        erasure_request_extend(erasure_request_id=erasure_request.pk, months=3, reason="complex", actor=actor)
    extended = erasure_request_extend(
        erasure_request_id=erasure_request.pk, months=2, reason="complex", actor=actor
    )
    assert extended.extended_due_on == date(2024, 4, 15)
    assert extended.due == date(2024, 4, 15)
    with pytest.raises(ValueError, match="once"):
        erasure_request_extend(erasure_request_id=erasure_request.pk, months=1, reason="again", actor=actor)


def test_reject_needs_a_reason_and_stops_everything(subject, actor, run_jobs):
    erasure_request = create(subject, actor)
    with pytest.raises(ValueError, match="reason"):
        erasure_request_reject(erasure_request_id=erasure_request.pk, reason="", actor=actor)

    rejected = erasure_request_reject(
        erasure_request_id=erasure_request.pk, reason="Identity not verified", actor=actor
    )
    run_jobs(rejected)

    assert (rejected.status, rejected.closing_note) == ("rejected", "Identity not verified")
    assert not Order.objects.filter(anonymized=True).exists()
    with pytest.raises(ErasureRequestClosed):
        erasure_request_cancel(erasure_request_id=erasure_request.pk, actor=actor)


def test_cancel_closes_and_the_follow_up_leaves_it(subject, actor, run_jobs):
    erasure_request = run_jobs(create(subject, actor))
    erasure_request_cancel(erasure_request_id=erasure_request.pk, reason="Withdrawn", actor=actor)
    Order.objects.filter(pk=subject.unpaid.pk).update(status="cancelled")

    assert erasure_request_follow_up() == 0
    assert not Order.objects.get(pk=subject.unpaid.pk).anonymized


@pytest.mark.parametrize(
    ("resource_type", "resource_id"),
    [("email", "not an email"), ("customer", "not-a-uuid"), ("person", "x"), ("email", "a\x00@b.c")],
)
def test_a_bad_identifier_is_refused_and_nothing_is_recorded(subject, actor, resource_type, resource_id):
    with pytest.raises(SubjectError):
        create(subject, actor, resource_type=resource_type, resource_id=resource_id)
    assert not ErasureRequest.objects.exists()


def test_a_reference_is_required(subject, actor):
    with pytest.raises(ValueError, match="reference"):
        create(subject, actor, reference="  ")


@pytest.mark.parametrize("spelling", ["code_usage", "code-usage"])
def test_a_code_usage_request_covers_that_usage(subject, actor, spelling, run_jobs):
    erasure_request = run_jobs(
        create(subject, actor, resource_type=spelling, resource_id=str(subject.usage.pk))
    )

    assert states(erasure_request) == {subject.usage.pk: ItemState.ANONYMIZED}
    assert erasure_request.status == "completed"


def test_an_order_request_covers_the_order_and_its_customers_records(subject, actor):
    erasure_request = create(subject, actor, resource_type="order", resource_id=str(subject.unpaid.pk))

    assert set(states(erasure_request)) == {subject.shipped.pk, subject.unpaid.pk, subject.usage.pk}


def test_a_request_for_nobody_completes_with_nothing_held(actor, db, run_jobs):
    erasure_request = erasure_request_create(
        resource_type="email",
        resource_id="nobody@example.com",
        reference="T-0",
        actor=actor,
        via=Interface.API,
    )
    run_jobs(erasure_request)

    assert erasure_request.status == "completed"
    assert not erasure_request.items.exists()


def test_records_imported_later_join_an_open_request(subject, actor, run_jobs, make_order, make_usage):
    erasure_request = run_jobs(create(subject, actor))
    by_email = make_order(customer_email="grace.hopper@EXAMPLE.com", customer_id=None)
    by_contact = make_order(contact_email=subject.email, customer_id=None)
    other = make_order()
    usage = make_usage(customer_email=subject.email)

    added = erasure_requests_attach_new_records(
        order_ids=[by_email.pk, by_contact.pk, other.pk], usage_ids=[usage.pk]
    )

    assert added == 3
    erasure_request.refresh_from_db()
    assert erasure_request.status == "open"
    assert erasure_requests_attach_new_records(order_ids=[by_email.pk]) == 0  # once only
    run_jobs(erasure_request)
    assert states(erasure_request)[by_email.pk] == ItemState.ANONYMIZED


def test_a_closed_request_gains_no_records(subject, actor, make_order):
    erasure_request = create(subject, actor)
    erasure_request_cancel(erasure_request_id=erasure_request.pk, actor=actor)

    assert erasure_requests_attach_new_records(order_ids=[make_order(customer_email=subject.email).pk]) == 0


def test_a_customer_request_gains_the_customers_new_orders(subject, actor, make_order):
    create(subject, actor, resource_type="customer", resource_id=str(subject.customer_id))

    assert (
        erasure_requests_attach_new_records(order_ids=[make_order(customer_id=subject.customer_id).pk]) == 1
    )


def test_settling_costs_the_same_queries_for_one_record_or_many(
    actor, make_order, run_jobs, django_assert_num_queries
):
    def queries_for(n):
        customer_id = uuid.uuid4()
        for _ in range(n):
            make_order(customer_id=customer_id)
            make_order(customer_id=customer_id, shipping="unfulfilled")
        erasure_request = erasure_request_create(
            resource_type="customer",
            resource_id=str(customer_id),
            reference="T",
            actor=actor,
            via=Interface.WEB,
        )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            run_jobs(erasure_request)
        assert erasure_request.items.filter(state=ItemState.WAITING).count() == n
        return len(captured)

    assert queries_for(1) == queries_for(20)


def test_no_item_or_request_row_holds_a_personal_value(subject, actor, run_jobs):
    LegalHold.objects.create(order=subject.unpaid, reason="Tax retention", ends_on=timezone.localdate())
    erasure_request = run_jobs(create(subject, actor))
    erasure_request_item_exclude(
        item_id=erasure_request.items.get(record_id=subject.unpaid.pk).pk, reason="Dispute open", actor=actor
    )

    rows = list(ErasureRequest.objects.values()) + list(ErasureRequestItem.objects.values())
    text = repr(rows).lower()
    for value in ("grace", "hopper", "example.com"):
        assert value not in text


def test_a_request_opened_with_an_api_key_files_its_anonymizations_under_the_key(subject, officer, run_jobs):
    from core.api_keys import api_key_create
    from core.audit import Actor

    api_key, _ = api_key_create(name="dsr-bot", user=officer)
    erasure_request = run_jobs(
        erasure_request_create(
            resource_type="customer",
            resource_id=str(subject.customer_id),
            reference="API-1",
            actor=Actor.for_api_key(api_key),
            via=Interface.API,
        )
    )

    assert erasure_request.created_by_api_key == api_key
    audit = AuditRecord.objects.filter(erasure_request=erasure_request)
    assert {(r.actor, r.actor_key_id, r.interface) for r in audit} == {(api_key.label, api_key.pk, "api")}
