"""The admin's "Anonymize selected" files its anonymizations under an erasure request, asked for on
its confirmation page: an open request chosen, or a new one from a reference."""

import pytest
from django.utils.html import escape

from core.erasure_filing import ADMIN_REQUEST_REQUIRED
from core.jobs import job_run
from core.models import AuditRecord, ErasureRequest, Interface, Job
from erasure.models import ItemState
from erasure.services import erasure_request_create
from orders.models import Order
from tests.core.changelist import (
    ANONYMIZE_ORDERS,
    ANONYMIZE_USAGES,
    ORDERS_URL,
    USAGES_URL,
    choose_action,
    confirm_action,
    messages_of,
)


def open_request(actor, email, reference):
    return erasure_request_create(
        resource_type="email", resource_id=email, reference=reference, actor=actor, via=Interface.WEB
    )


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def run_request_jobs():
    def run():
        for job in Job.objects.filter(kind="erasure.request"):
            job_run(job_id=job.pk, reraise=True)

    return run


def test_the_confirmation_page_asks_for_a_request_and_offers_the_open_ones(officer_client, make_order, actor):
    make_order(customer_email="x@example.com", shipping="unfulfilled")
    offered = open_request(actor, "x@example.com", "DSR-OPEN")
    order = make_order()

    html = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk]).content.decode()

    assert 'name="erasure_reference"' in html
    assert f'<option value="{offered.pk}">DSR-OPEN (received' in html


def test_without_a_request_nothing_is_anonymized_and_the_page_says_why(officer_client, make_order):
    order = make_order()

    response = confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk], erasure_reference=" ")

    assert response.status_code == 200
    assert escape(ADMIN_REQUEST_REQUIRED) in response.content.decode()
    assert not Order.objects.get(pk=order.pk).anonymized
    assert not ErasureRequest.objects.exists()


def test_a_new_reference_opens_a_request_that_completes_with_the_records_filed(
    officer_client, officer, make_order
):
    orders = [make_order(), make_order()]

    response = confirm_action(
        officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [o.pk for o in orders], erasure_reference="DSR-ADM-9"
    )

    erasure_request = ErasureRequest.objects.get()
    assert "Filed under erasure request “DSR-ADM-9”." in messages_of(response)
    assert (erasure_request.reference, erasure_request.created_by, erasure_request.status) == (
        "DSR-ADM-9",
        officer,
        "completed",
    )
    assert erasure_request.subject_key == ""  # the admin's selection names no subject
    audit = AuditRecord.objects.filter(erasure_request=erasure_request, interface="admin")
    assert {r.record_id for r in audit} == {o.pk for o in orders}
    assert set(erasure_request.items.values_list("record_id", "state")) == {
        (o.pk, ItemState.ANONYMIZED) for o in orders
    }


def test_an_open_request_chosen_gains_the_records_as_anonymized_items(
    officer_client, make_order, make_usage, actor, run_request_jobs
):
    waiting = make_order(customer_email="grace@example.com", shipping="unfulfilled")
    erasure_request = open_request(actor, "grace@example.com", "DSR-W")
    run_request_jobs()
    usage = make_usage()
    Order.objects.filter(pk=waiting.pk).update(shipping="fulfilled")

    confirm_action(
        officer_client, USAGES_URL, ANONYMIZE_USAGES, [usage.pk], erasure_request=str(erasure_request.pk)
    )
    erasure_request.refresh_from_db()
    assert erasure_request.status == "waiting"  # the order still waits
    confirm_action(
        officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [waiting.pk], erasure_request=str(erasure_request.pk)
    )

    erasure_request.refresh_from_db()
    assert erasure_request.status == "completed"
    assert set(erasure_request.items.values_list("record_id", "state")) == {
        (waiting.pk, ItemState.ANONYMIZED),
        (usage.pk, ItemState.ANONYMIZED),
    }
    assert AuditRecord.objects.filter(erasure_request=erasure_request).count() == 2
    assert ErasureRequest.objects.count() == 1


def test_a_closed_request_cannot_be_chosen(officer_client, make_order, actor):
    from erasure.services import erasure_request_cancel

    make_order(customer_email="x@example.com", shipping="unfulfilled")
    erasure_request = open_request(actor, "x@example.com", "C")
    erasure_request_cancel(erasure_request_id=erasure_request.pk, actor=actor)
    order = make_order()

    response = confirm_action(
        officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk], erasure_request=str(erasure_request.pk)
    )

    assert "closed or no longer exists" in response.content.decode()
    assert not Order.objects.get(pk=order.pk).anonymized


def test_a_refused_selection_leaves_no_new_request_behind(officer_client, make_order):
    refused = make_order(shipping="unfulfilled")

    confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [refused.pk], erasure_reference="DSR-NONE")

    assert not ErasureRequest.objects.exists()
