"""Erasure requests on the privacy pages: start from Find a person (preview, confirm), the list, the
request page and its actions, the receipt; the records always found again on the server."""

import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.jobs import job_run
from core.models import AuditRecord, ErasureRequest, Interface, Job
from epcc.documents.orders import order_document
from erasure.models import ItemState
from erasure.services import erasure_request_create, erasure_request_extend
from orders.models import LegalHold, Order
from privacy.forms import REFERENCE_REQUIRED


def preview(client, person, **data):
    return client.post(reverse("privacy:erasure-preview"), {"q": person.email} | data)


def confirm(client, query, **data):
    return client.post(reverse("privacy:erasure-confirm"), {"q": query, "reference": "TICKET-42"} | data)


def run_jobs():
    for job in Job.objects.filter(kind="erasure.request").order_by("created_at"):
        job_run(job_id=job.pk, reraise=True)


@pytest.fixture
def started(person, actor):
    """Ada's request, its job run: one order anonymized, one waiting, two usages anonymized."""
    erasure_request = erasure_request_create(
        resource_type="email", resource_id=person.email, reference="DSR-1", actor=actor, via=Interface.WEB
    )
    run_jobs()
    erasure_request.refresh_from_db()
    return erasure_request


# --- starting a request --------------------------------------------------------


def test_the_search_offers_to_start_a_request_without_any_record_checkbox(officer_client, person):
    html = officer_client.get(reverse("privacy:search"), {"q": person.email}).content.decode()

    assert "Start an erasure request" in html
    assert 'name="order_ids"' not in html and 'name="usage_ids"' not in html


def test_preview_lists_what_is_anonymized_now_and_what_waits_and_why(officer_client, person):
    response = preview(officer_client, person, reference="TICKET-42", received_on="2024-01-31")

    html = response.content.decode()
    assert response.status_code == 200
    for field in ("customer.email", "billing_address.postcode", "custom_attributes.gift_message.value"):
        assert f"<li>{field}</li>" in html
    assert "<li>customer_email</li>" in html
    assert "Will wait" in html
    assert (
        "Not yet fulfilled, cancelled or refunded (order: complete, payment: paid, shipping: unfulfilled)"
        in html
    )
    assert "due 2024-02-29" in html
    assert 'name="order_ids"' not in html  # nothing to forge: the confirmation posts no record id
    assert not Order.objects.filter(anonymized=True).exists()
    assert not ErasureRequest.objects.exists()


def test_a_missing_reference_says_so_and_changes_nothing(officer_client, person):
    response = preview(officer_client, person, reference="  ")

    assert response.status_code == 400
    assert REFERENCE_REQUIRED in response.content.decode()


def test_a_received_date_in_the_future_is_refused(officer_client, person):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = preview(officer_client, person, reference="T-1", received_on=tomorrow.isoformat())

    assert response.status_code == 400
    assert "cannot be received in the future" in response.content.decode()


def test_confirm_opens_the_request_for_what_the_search_finds_and_queues_its_job(
    officer_client, person, officer
):
    response = confirm(officer_client, person.email, received_on="2024-03-01", request_id=str(uuid.uuid4()))

    erasure_request = ErasureRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:request", kwargs={"pk": erasure_request.pk})
    assert (erasure_request.reference, erasure_request.created_by) == ("TICKET-42", officer)
    assert erasure_request.received_on == date(2024, 3, 1)
    assert erasure_request.resource_id == ""  # an email is never kept
    assert {item.record_id for item in erasure_request.items.all()} == {
        person.eligible.pk,
        person.refused.pk,
        *(usage.pk for usage in person.usages),
    }
    assert Job.objects.filter(kind="erasure.request", interface="web", actor="officer").count() == 1


def test_confirm_never_takes_posted_record_ids(officer_client, person, stranger):
    """Issue 15, item 6: an extra id posted with the confirmation is not filed under the request."""
    confirm(officer_client, person.email, order_ids=[str(stranger[0].pk)], usage_ids=[str(stranger[1].pk)])
    run_jobs()

    erasure_request = ErasureRequest.objects.get()
    record_ids = set(erasure_request.items.values_list("record_id", flat=True))
    assert stranger[0].pk not in record_ids and stranger[1].pk not in record_ids
    assert not Order.objects.get(pk=stranger[0].pk).anonymized
    assert not AuditRecord.objects.filter(record_id__in=[stranger[0].pk, stranger[1].pk]).exists()


def test_sending_the_confirmation_twice_opens_one_request(officer_client, person):
    request_id = str(uuid.uuid4())
    confirm(officer_client, person.email, request_id=request_id)

    again = confirm(officer_client, person.email, request_id=request_id)

    assert ErasureRequest.objects.count() == 1
    assert again["Location"] == reverse("privacy:request", kwargs={"pk": request_id})


def test_a_confirmation_without_reference_changes_nothing(officer_client, person):
    response = confirm(officer_client, person.email, reference="")

    assert response.status_code == 302
    assert not ErasureRequest.objects.exists()
    assert REFERENCE_REQUIRED in officer_client.get(response["Location"]).content.decode()


def test_a_confirmation_for_a_query_that_names_nobody_changes_nothing(officer_client, db):
    response = confirm(officer_client, "not a key")

    assert response.status_code == 302
    assert not ErasureRequest.objects.exists()


def test_a_request_by_order_id_keeps_the_order_id(officer_client, person):
    confirm(officer_client, str(person.refused.pk))

    erasure_request = ErasureRequest.objects.get()
    assert (erasure_request.resource_type, erasure_request.resource_id) == ("order", str(person.refused.pk))
    assert erasure_request.items.count() == 3  # both orders of the customer, and their usage


def test_a_viewer_is_offered_no_request_and_cannot_start_one(viewer_client, person):
    html = viewer_client.get(reverse("privacy:search"), {"q": person.email}).content.decode()
    answer = confirm(viewer_client, person.email)

    assert "Start an erasure request" not in html
    assert answer.status_code == 403
    assert not ErasureRequest.objects.exists()


# --- the list and the dashboard --------------------------------------------------


def make_request(actor, email, *, received_on, reference):
    return erasure_request_create(
        resource_type="email",
        resource_id=email,
        reference=reference,
        actor=actor,
        via=Interface.WEB,
        received_on=received_on,
        run=False,
    )


@pytest.fixture
def three_requests(actor, person):
    today = timezone.localdate()
    overdue = make_request(actor, person.email, received_on=today - timedelta(days=40), reference="OLD-1")
    soon = make_request(actor, person.email, received_on=today - timedelta(days=27), reference="SOON-1")
    fresh = make_request(actor, person.email, received_on=today, reference="NEW-1")
    return overdue, soon, fresh


def test_the_list_marks_overdue_and_due_soon_requests(officer_client, three_requests):
    html = officer_client.get(reverse("privacy:requests")).content.decode()

    rows = {
        ref: next(row for row in html.split("<tr>") if ref in row) for ref in ("OLD-1", "SOON-1", "NEW-1")
    }
    assert "overdue" in rows["OLD-1"]
    assert "due within 7 days" in rows["SOON-1"]
    assert "overdue" not in rows["NEW-1"] and "due within 7 days" not in rows["NEW-1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"due": "overdue"}, {"OLD-1"}),
        ({"due": "due_soon"}, {"SOON-1"}),
        ({"status": "open"}, {"OLD-1", "SOON-1", "NEW-1"}),
        ({"status": "completed"}, set()),
    ],
)
def test_the_list_filters_by_status_and_due(officer_client, three_requests, query, expected):
    response = officer_client.get(reverse("privacy:requests"), query)

    assert {r.reference for r in response.context["requests"]} == expected


def test_an_extension_moves_a_request_out_of_overdue(officer_client, three_requests, actor):
    overdue = three_requests[0]
    erasure_request_extend(erasure_request_id=overdue.pk, months=2, reason="Complex", actor=actor)

    response = officer_client.get(reverse("privacy:requests"), {"due": "overdue"})

    assert list(response.context["requests"]) == []


def test_a_bad_filter_says_so(officer_client, three_requests):
    response = officer_client.get(reverse("privacy:requests"), {"status": "nonsense"})

    assert "Select a valid choice" in response.content.decode()
    assert list(response.context["requests"]) == []


def test_the_dashboard_counts_requests_and_links_to_the_list(officer_client, three_requests):
    html = officer_client.get(reverse("privacy:dashboard")).content.decode()

    assert f'href="{reverse("privacy:requests")}?due=overdue">overdue' in html
    assert f'href="{reverse("privacy:requests")}?due=due_soon">due within 7 days' in html
    counts = officer_client.get(reverse("privacy:dashboard")).context["request_counts"]
    assert (counts.open, counts.waiting, counts.overdue, counts.due_soon) == (3, 0, 1, 1)


def test_the_list_costs_the_same_queries_for_one_request_or_many(
    officer_client, actor, person, django_assert_max_num_queries
):
    for n in range(30):
        make_request(actor, person.email, received_on=timezone.localdate(), reference=f"R-{n}")

    # session, user, permissions, count, page
    with django_assert_max_num_queries(6):
        officer_client.get(reverse("privacy:requests"))


# --- the request page and its actions ---------------------------------------------


def test_the_request_page_shows_items_their_states_and_the_next_step(officer_client, started, person):
    response = officer_client.get(reverse("privacy:request", kwargs={"pk": started.pk}))

    html = response.content.decode()
    assert response.status_code == 200
    assert started.status == "waiting"
    assert str(person.refused.pk) in html and str(person.eligible.pk) in html
    assert "Waiting" in html and "Anonymized" in html
    assert "payment: paid, shipping: unfulfilled" in html
    assert "1 record waits" in response.context["next_step"]
    assert "hourly follow-up" in response.context["next_step"]


def test_exclude_a_waiting_record_with_a_reason_completes_the_request(officer_client, started, person):
    item = started.items.get(record_id=person.refused.pk)
    url = reverse("privacy:request-item-exclude", kwargs={"pk": started.pk, "item_id": item.pk})

    refused = officer_client.post(url, {"reason": ""})
    done = officer_client.post(url, {"reason": "Open chargeback dispute"})

    assert refused.status_code == 400
    assert done.status_code == 302
    started.refresh_from_db()
    item.refresh_from_db()
    assert (item.state, item.reason) == (ItemState.EXCLUDED, "Open chargeback dispute")
    assert started.status == "completed"


def test_an_item_of_another_request_is_a_404(officer_client, started, actor, make_order):
    other = erasure_request_create(
        resource_type="order",
        resource_id=str(make_order(shipping="unfulfilled").pk),
        reference="X",
        actor=actor,
        via=Interface.WEB,
        run=False,
    )
    url = reverse("privacy:request-item-exclude", kwargs={"pk": started.pk, "item_id": other.items.get().pk})

    assert officer_client.post(url, {"reason": "x"}).status_code == 404


def test_extend_reject_and_cancel(officer_client, person, actor):
    first = make_request(actor, person.email, received_on=date(2024, 5, 31), reference="A")
    second = make_request(actor, person.email, received_on=date(2024, 5, 31), reference="B")

    officer_client.post(
        reverse("privacy:request-extend", kwargs={"pk": first.pk}), {"months": 2, "reason": "Many"}
    )
    again = officer_client.post(
        reverse("privacy:request-extend", kwargs={"pk": first.pk}), {"months": 1, "reason": "x"}
    )
    officer_client.post(
        reverse("privacy:request-reject", kwargs={"pk": first.pk}), {"reason": "Identity not verified"}
    )
    officer_client.post(reverse("privacy:request-cancel", kwargs={"pk": second.pk}), {"reason": ""})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.extended_due_on == date(2024, 8, 31)
    assert again.status_code == 400 and "extended once" in again.content.decode()
    assert (first.status, first.closing_note) == ("rejected", "Identity not verified")
    assert second.status == "cancelled"
    closed = officer_client.get(reverse("privacy:request", kwargs={"pk": first.pk})).content.decode()
    assert "Rejected (Identity not verified)" in closed
    assert (
        "Exclude this record" not in closed
        and 'action="' + reverse("privacy:request-reject", kwargs={"pk": first.pk}) not in closed
    )


def test_a_viewer_cannot_change_a_request(viewer_client, started):
    html = viewer_client.get(reverse("privacy:request", kwargs={"pk": started.pk})).content.decode()
    answer = viewer_client.post(reverse("privacy:request-cancel", kwargs={"pk": started.pk}), {"reason": ""})

    assert "Cancel the request" not in html
    assert answer.status_code == 403
    started.refresh_from_db()
    assert started.status == "waiting"


def test_an_unknown_request_is_a_404(officer_client, db):
    assert officer_client.get(reverse("privacy:request", kwargs={"pk": uuid.uuid4()})).status_code == 404
    assert officer_client.get(reverse("privacy:receipt", kwargs={"pk": uuid.uuid4()})).status_code == 404


# --- the receipt -------------------------------------------------------------------


def test_the_receipt_states_what_was_anonymized_what_waits_and_why_and_what_was_excluded(
    officer_client, person, actor
):
    LegalHold.objects.create(order=person.eligible, reason="Tax retention", ends_on=date(2031, 1, 31))
    before = order_document(person.refused.pk)
    erasure_request = erasure_request_create(
        resource_type="customer",
        resource_id=str(person.customer_id),
        reference="DSR-9",
        actor=actor,
        via=Interface.WEB,
    )
    run_jobs()
    from erasure.services import erasure_request_item_exclude

    erasure_request_item_exclude(
        item_id=erasure_request.items.get(record_id=person.refused.pk).pk, reason="Open dispute", actor=actor
    )

    response = officer_client.get(reverse("privacy:receipt", kwargs={"pk": erasure_request.pk}))

    html = response.content.decode()
    receipt = response.context["receipt"]
    assert [line.record_id for line in receipt.anonymized] == [person.usages[0].pk]
    assert "<li>customer_email</li>" in html
    assert [line.record_id for line in receipt.waiting] == [person.eligible.pk]
    assert "Under legal hold until 2031-01-31 (Tax retention)" in html
    assert [line.record_id for line in receipt.excluded] == [person.refused.pk]
    assert "Open dispute" in html
    for value in (
        before["customer"]["name"],
        before["customer"]["email"],
        person.email,
        person.email.lower(),
    ):
        assert value not in html


# --- the push to an EPCC store (issue 16) ------------------------------------------


def test_with_a_store_the_request_and_its_receipt_say_where_each_push_stands(
    officer_client, person, actor, settings
):
    settings.EPCC_API_BASE_URL = "http://127.0.0.1:9"
    settings.EPCC_CLIENT_ID, settings.EPCC_CLIENT_SECRET = "client", "a-secret"
    erasure_request = erasure_request_create(
        resource_type="email", resource_id=person.email, reference="DSR-PUSH", actor=actor, via=Interface.WEB
    )
    run_jobs()
    anonymized = erasure_request.items.filter(state=ItemState.ANONYMIZED).count()
    assert anonymized == 3

    page = officer_client.get(reverse("privacy:request", kwargs={"pk": erasure_request.pk})).content.decode()
    receipt = officer_client.get(
        reverse("privacy:receipt", kwargs={"pk": erasure_request.pk})
    ).content.decode()

    for content in (page, receipt):
        assert content.count("In the EPCC store: Pending: to be sent to the store") == anonymized
        assert person.email not in content


def test_without_a_store_nothing_is_said_of_pushes(officer_client, started):
    erasure_request = started
    page = officer_client.get(reverse("privacy:request", kwargs={"pk": erasure_request.pk})).content.decode()
    receipt = officer_client.get(
        reverse("privacy:receipt", kwargs={"pk": erasure_request.pk})
    ).content.decode()
    assert "In the EPCC store" not in page + receipt
