"""The admin's "Anonymize selected" beyond one chunk: a job, its page, and what the worker leaves.

JOBS_CHUNK_SIZE is lowered so a handful of records makes a large selection.
The request writes the job's chunks in SQL and answers with the job's page;
a worker (here `job_run` in the test's process, in test_jobs_worker.py's
style a real one) anonymizes them with an audit record and an admin history
entry per record.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.admin_actions import Confirmation, anonymize_confirmed
from core.jobs import job_progress, job_run
from core.models import AuditRecord, ErasureRequest, Interface, Job, JobChunk, JobStatus
from orders.admin import ORDERS, OrderAdmin
from orders.models import LegalHold, Order
from promotions.models import CodeUsage
from tests.core.changelist import (
    ANONYMIZE_ORDERS,
    ANONYMIZE_USAGES,
    ERASURE_REFERENCE,
    ORDERS_URL,
    USAGES_URL,
    choose_action,
    confirm_action,
    messages_of,
)

CHUNK = 4


@pytest.fixture(autouse=True)
def small_chunks(settings):
    settings.JOBS_CHUNK_SIZE = CHUNK


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def eligible_orders(make_order, n):
    return [make_order(addresses=False, items=0, attributes={"gift_note": "Love, Ann"}) for _ in range(n)]


def confirmation_form(client, url, action, first_id, **extra) -> dict:
    """The confirmation page of a select-across, and the form its button posts (its counts included)."""
    form = {
        "action": action,
        "_selected_action": [str(first_id)],
        "select_across": "1",
        "index": "0",
        **ERASURE_REFERENCE,
        **extra,
    }
    page = client.post(url, form)
    assert page.status_code == 200, page.status_code
    return {
        **form,
        "post": "yes",
        "selected_count": str(page.context["selected_count"]),
        "eligible_count": str(page.context["eligible_count"]),
    }


def select_all(client, url, action, first_id, *, meanwhile=lambda: None, **extra):
    """Select all, confirm (not followed); `meanwhile` runs between the page and the button."""
    form = confirmation_form(client, url, action, first_id, **extra)
    meanwhile()
    return client.post(url, form)


def test_a_select_all_beyond_one_chunk_starts_a_job_and_opens_its_page(officer_client, officer, make_order):
    orders = eligible_orders(make_order, 10)

    response = select_all(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, orders[0].pk)

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/privacy/jobs/{job.pk}/"
    assert (job.kind, job.status, job.total, job.planned) == ("orders.anonymize", JobStatus.QUEUED, 10, True)
    assert (job.started_by, job.actor, job.interface) == (officer, officer.username, Interface.ADMIN)
    erasure_request = ErasureRequest.objects.get(reference=ERASURE_REFERENCE["erasure_reference"])
    assert job.params == {"erasure_request": str(erasure_request.pk), "admin_history": True}
    chunks = list(JobChunk.objects.filter(job=job).order_by("number").values_list("ids", flat=True))
    assert [len(ids) for ids in chunks] == [4, 4, 2]
    # In primary-key order, each id once: the order the service locks them in.
    assert [pk for ids in chunks for pk in ids] == sorted(o.pk for o in orders)
    # Nothing is anonymized in the request.
    assert not Order.objects.filter(anonymized=True).exists()
    assert not AuditRecord.objects.exists()

    page = officer_client.get(response["Location"])
    assert "Anonymizing 10 orders as a job, 3 chunks of up to 4" in " ".join(messages_of(page))
    assert page.status_code == 200 and b'id="job-bar"' in page.content


def test_the_request_costs_the_same_statements_whatever_the_selection_size(officer_client, make_order):
    counts = []
    for size in (6, 30):
        Order.objects.all().delete()
        orders = eligible_orders(make_order, size)
        form = confirmation_form(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, orders[0].pk)
        with CaptureQueriesContext(connection) as queries:
            response = officer_client.post(ORDERS_URL, form)
        assert response.status_code == 302
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 15, counts


def test_the_job_leaves_one_audit_record_and_one_history_entry_per_order(officer_client, officer, make_order):
    orders = eligible_orders(make_order, 10)
    select_all(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, orders[0].pk)
    job = Job.objects.get()

    job = job_run(job_id=job.pk)
    job_run(job_id=job.pk)  # a second run finds it done and does nothing

    assert job.status == JobStatus.DONE
    assert Order.objects.filter(anonymized=True).count() == 10
    records = list(AuditRecord.objects.values_list("record_id", "interface", "actor_user"))
    assert sorted(records) == sorted((o.pk, Interface.ADMIN, officer.pk) for o in orders)
    entries = list(LogEntry.objects.values_list("object_id", "user_id", "change_message"))
    assert sorted(e[0] for e in entries) == sorted(str(o.pk) for o in orders)
    assert {e[1] for e in entries} == {officer.pk}
    batches = set(job_progress(job).batch_ids)
    assert len(batches) == 3
    assert {e[2].split("audit batch ")[1].split(")")[0] for e in entries} == {str(b) for b in batches}
    for order in orders:
        for value in (order.customer_email, order.customer_name, "Love, Ann"):
            assert not LogEntry.objects.filter(change_message__contains=value).exists()
            assert not LogEntry.objects.filter(object_repr__contains=value).exists()


def test_eligible_only_writes_only_the_eligible_into_the_job(officer_client, make_order):
    orders = eligible_orders(make_order, 6)
    refused = make_order(status="complete", payment="paid", shipping="unfulfilled")
    already = make_order(anonymized=True, customer_email="**", customer_name="**")

    response = select_all(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, orders[0].pk, eligible_only="yes")

    job = Job.objects.get()
    assert response.status_code == 302 and job.total == 6
    assert {pk for ids in job.chunks.values_list("ids", flat=True) for pk in ids} == {o.pk for o in orders}
    message = " ".join(messages_of(officer_client.get(response["Location"])))
    assert "2 others (refused or already anonymized) are left as they are." in message
    job_run(job_id=job.pk)
    assert not Order.objects.get(pk=refused.pk).anonymized
    assert AuditRecord.objects.filter(record_id=already.pk).count() == 0


def test_a_hold_placed_after_the_confirmation_page_starts_nothing(officer_client, make_order):
    orders = eligible_orders(make_order, 6)

    response = select_all(
        officer_client,
        ORDERS_URL,
        ANONYMIZE_ORDERS,
        orders[0].pk,
        meanwhile=lambda: LegalHold.objects.create(order=orders[3], reason="Tax retention"),
    )

    assert not Job.objects.exists()
    # The confirmation page again, for the same selection, with why.
    assert response.status_code == 200
    assert response.context["refused_count"] == 1 and response.context["select_across"]
    [message] = messages_of(response)
    assert message.startswith("Nothing was anonymized: 1 of the selected orders can no longer be anonymized")
    assert "(the confirmation page counted 6 eligible, there are 5 now)" in message
    assert response.context["refused_by_reason"] == [("Under legal hold", 1)]


def test_a_selection_of_one_chunk_is_still_anonymized_in_the_request(officer_client, make_order):
    orders = eligible_orders(make_order, CHUNK)

    response = confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [o.pk for o in orders])

    assert f"Anonymized {CHUNK} orders." in messages_of(response)
    assert not Job.objects.exists()
    assert Order.objects.filter(anonymized=True).count() == CHUNK


def test_nothing_to_anonymize_starts_no_job(officer_client, make_order):
    done = [make_order(anonymized=True, customer_email="**") for _ in range(6)]

    response = select_all(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, done[0].pk, eligible_only="yes")

    assert not Job.objects.exists()
    assert "Nothing was anonymized: no selected orders needed it." in messages_of(
        officer_client.get(response["Location"])
    )


def test_usages_beyond_one_chunk_run_as_a_job_too(officer_client, officer, make_usage):
    usages = [make_usage() for _ in range(9)]

    response = select_all(officer_client, USAGES_URL, ANONYMIZE_USAGES, usages[0].pk)

    job = Job.objects.get()
    assert response["Location"] == f"/privacy/jobs/{job.pk}/"
    assert (job.kind, job.total) == ("usages.anonymize", 9)
    job_run(job_id=job.pk)
    assert CodeUsage.objects.filter(anonymized=True).count() == 9
    assert AuditRecord.objects.count() == 9
    assert sorted(LogEntry.objects.values_list("object_id", flat=True)) == sorted(str(u.pk) for u in usages)


def test_the_job_files_its_audit_records_under_the_erasure_request(rf, officer, make_order):
    """The confirmation form's handling takes an erasure request and passes it to the service."""
    orders = eligible_orders(make_order, 6)
    erasure = ErasureRequest.objects.create(reference="TICKET-42", created_by=officer)
    request = rf.post(ORDERS_URL, {"select_across": "1", "post": "yes"})
    request.user, request.session = officer, {}
    request._messages = FallbackStorage(request)

    anonymize_confirmed(
        OrderAdmin(Order, admin.site),
        request,
        Order.objects.all(),
        ORDERS,
        Confirmation(erasure_request=erasure),
    )

    job = Job.objects.get()
    assert job.params["erasure_request"] == str(erasure.pk)
    job_run(job_id=job.pk)
    assert sorted(
        AuditRecord.objects.filter(erasure_request=erasure).values_list("record_id", flat=True)
    ) == sorted(o.pk for o in orders)


# --- issue 15 item 8: a filtered list does not silently drop what changed -----------
# (ticked rows: tests/orders/test_admin.py, test_a_hold_placed_after_the_confirmation_page_...)

FILTERED = f"{ORDERS_URL}?can_be_anonymized=yes"


def test_a_select_all_of_a_filtered_list_that_lost_an_order_since_the_confirmation_changes_nothing(
    officer_client, make_order
):
    first, second = make_order(), make_order()
    page = choose_action(officer_client, FILTERED, ANONYMIZE_ORDERS, [first.pk], select_across="1")
    assert page.context["selected_count"] == 2
    LegalHold.objects.create(order=second, reason="Tax retention")

    response = confirm_action(
        officer_client, FILTERED, ANONYMIZE_ORDERS, [first.pk], select_across="1", selected_count="2"
    )

    [message] = messages_of(response)
    assert message.startswith(
        "Nothing was anonymized: 1 of the selected orders can no longer be anonymized or no longer match"
    )
    assert not Order.objects.filter(anonymized=True).exists()
    assert response.context["selected_count"] == 1


def test_a_select_all_that_gained_an_order_since_the_confirmation_changes_nothing(officer_client, make_order):
    first = make_order()
    choose_action(officer_client, FILTERED, ANONYMIZE_ORDERS, [first.pk], select_across="1")
    make_order()  # imported meanwhile: nobody confirmed it

    response = confirm_action(
        officer_client, FILTERED, ANONYMIZE_ORDERS, [first.pk], select_across="1", selected_count="1"
    )

    [message] = messages_of(response)
    assert message.startswith("Nothing was anonymized: 1 more orders match the list's filters now")
    assert not Order.objects.filter(anonymized=True).exists()
