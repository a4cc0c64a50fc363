"""A database failure in the middle of a batch, seen through every interface.

tests/backoffice/test_faults_services.py checks the services; here the same faults reach the
API (a 500 in EPCC's envelope, no stack trace, DEBUG on or off), the admin and
the privacy pages (a clear page, no stack trace), and nothing has changed.
A conflict the database aborted (deadlock, serialization failure) is a 409.
"""

import json
from contextlib import contextmanager

import pytest
from django.contrib.admin.models import LogEntry
from django.db import OperationalError, connection
from django.test import Client, override_settings

from core.api_keys import api_key_create
from core.errors import CONCURRENT_UPDATE_DETAIL, ConcurrentUpdate
from core.jobs import job_run
from core.models import AuditRecord, ErasureRequest, Job
from epcc.errors import SERVER_ERROR_DETAIL
from orders.models import Order, OrderAddress, OrderCustomAttribute
from promotions.models import CodeUsage
from tests.plugins.concurrency_faults_logs import fail_on

# Once the orders are masked (one statement masks their addresses and attributes
# too), writing their audit trail fails.
ORDERS_FAULT = {"sql_fragment": 'INSERT INTO "core_auditrecord"', "after": 'UPDATE "orders_order" SET'}
USAGES_FAULT = {"sql_fragment": 'INSERT INTO "core_auditrecord"', "after": 'UPDATE "promotions_codeusage"'}
CLEAR_PAGE = "Nothing was changed"


def everything() -> dict:
    """Every row the anonymizing paths could touch."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            Order,
            OrderAddress,
            OrderCustomAttribute,
            CodeUsage,
            AuditRecord,
            ErasureRequest,
            LogEntry,
        )
    }


@pytest.fixture
def records(make_order, make_usage):
    orders = [make_order(shipping="fulfilled") for _ in range(3)]
    usages = [make_usage() for _ in range(2)]
    return orders, usages


@pytest.fixture
def api(officer):
    _, token = api_key_create(name="faults", user=officer)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)


@pytest.fixture
def staff(officer):
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    return client


def post_json(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def assert_server_error_envelope(answer):
    assert answer.status_code == 500
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json() == {
        "errors": [{"status": 500, "title": "Internal Server Error", "detail": SERVER_ERROR_DETAIL}]
    }
    assert "Traceback" not in answer.content.decode()
    assert "injected" not in answer.content.decode()


# --- API -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_api_order_batch_failing_after_the_masking_is_a_500_envelope_and_changes_nothing(records, api, debug):
    orders, _ = records
    before = everything()
    with override_settings(DEBUG=debug), fail_on(**ORDERS_FAULT) as seen:
        answer = post_json(api, "/v2/orders/anonymize", {"data": {"order_ids": [str(o.pk) for o in orders]}})

    assert any('UPDATE "orders_order" SET' in sql for sql in seen), "the fault came after the masking"
    assert_server_error_envelope(answer)
    assert everything() == before


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_api_usage_batch_failing_at_the_audit_trail_is_a_500_envelope_and_changes_nothing(
    records, api, debug
):
    _, usages = records
    before = everything()
    with override_settings(DEBUG=debug), fail_on(**USAGES_FAULT):
        answer = post_json(
            api, "/v2/rule-promotions/usages/anonymize", {"data": {"usage_ids": [str(u.pk) for u in usages]}}
        )

    assert_server_error_envelope(answer)
    assert everything() == before


class _DriverError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@contextmanager
def conflict_on(sql_fragment: str):
    """Every statement containing `sql_fragment` is aborted the way PostgreSQL aborts a deadlock victim."""
    attempts = []

    def wrapper(execute, sql, params, many, context):
        if sql_fragment in sql:
            attempts.append(sql)
            error = OperationalError("deadlock detected")
            error.__cause__ = _DriverError("40P01")
            raise error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield attempts


@pytest.mark.django_db
def test_api_conflict_inside_the_request_transaction_is_a_409_envelope(records, api):
    orders, _ = records
    before = everything()
    with conflict_on('UPDATE "orders_order"'):
        answer = post_json(api, "/v2/orders/anonymize", {"data": {"order_ids": [str(orders[0].pk)]}})

    assert answer.status_code == 409
    assert answer.json() == {
        "errors": [{"status": 409, "title": "Conflict", "detail": CONCURRENT_UPDATE_DETAIL}]
    }
    assert everything() == before


@pytest.mark.django_db(transaction=True)
def test_api_conflict_is_retried_a_bounded_number_of_times_then_a_409(records, api):
    from core.retry import ATTEMPTS

    _, usages = records
    before = everything()
    with conflict_on('UPDATE "promotions_codeusage"') as attempts:
        answer = post_json(
            api, "/v2/rule-promotions/usages/anonymize", {"data": {"usage_ids": [str(usages[0].pk)]}}
        )

    assert len(attempts) == ATTEMPTS
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["detail"] == CONCURRENT_UPDATE_DETAIL
    assert everything() == before


# --- Admin -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_action_failing_mid_batch_shows_a_clear_page_and_changes_nothing(records, staff):
    orders, _ = records
    before = everything()
    with override_settings(DEBUG=False), fail_on(**ORDERS_FAULT):
        answer = staff.post(
            "/admin/orders/order/",
            {
                "action": "anonymize_selected_orders",
                "_selected_action": [str(o.pk) for o in orders],
                "post": "yes",
                "erasure_reference": "T-ADMIN",
            },
        )

    assert answer.status_code == 500
    page = answer.content.decode()
    assert CLEAR_PAGE in page
    assert "Traceback" not in page and "injected" not in page
    assert everything() == before


@pytest.mark.django_db
def test_admin_action_hitting_a_conflict_says_so_and_changes_nothing(records, staff):
    orders, _ = records
    before = everything()
    with conflict_on('UPDATE "orders_order"'):
        answer = staff.post(
            "/admin/orders/order/",
            {
                "action": "anonymize_selected_orders",
                "_selected_action": [str(orders[0].pk)],
                "post": "yes",
                "erasure_reference": "T-ADMIN",
            },
            follow=True,
        )

    assert everything() == before
    assert answer.status_code == 200
    assert CONCURRENT_UPDATE_DETAIL in [str(m) for m in answer.context["messages"]][0]


# --- Privacy pages ----------------------------------------------------------------------


def start_erasure(client, orders, usages):
    """Start an erasure request for one person (the records share an email) from the pages."""
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(customer_email="fault.subject@example.com")
    CodeUsage.objects.filter(pk__in=[u.pk for u in usages]).update(customer_email="fault.subject@example.com")
    answer = client.post(
        "/privacy/erasure/confirm/", {"q": "fault.subject@example.com", "reference": "T-FAULT"}
    )
    assert answer.status_code == 302
    return Job.objects.get(kind="erasure.request")


def changed_records() -> dict:
    return {name: rows for name, rows in everything().items() if name not in ("ErasureRequest",)}


@pytest.mark.django_db
@pytest.mark.parametrize("fault", [ORDERS_FAULT, USAGES_FAULT], ids=["orders-table", "audit-trail"])
def test_an_erasure_job_failing_mid_batch_changes_nothing_and_its_request_stays_open(records, staff, fault):
    orders, usages = records
    job = start_erasure(staff, orders, usages)
    before = changed_records()

    with fail_on(**fault):
        job = job_run(job_id=job.pk)

    assert job.status == "failed"
    assert "injected" not in job.error
    assert changed_records() == before
    erasure_request = ErasureRequest.objects.get()
    assert erasure_request.status == "open"
    assert erasure_request.items.filter(state="pending").count() == 5
    request_page = staff.get(f"/privacy/requests/{erasure_request.pk}/").content.decode()
    assert "not handled yet" in request_page
    assert f"/privacy/jobs/{job.pk}/" in request_page  # the failed job, to retry


@pytest.mark.django_db
def test_an_erasure_job_hitting_a_conflict_changes_nothing_and_is_queued_again(records, staff):
    orders, usages = records
    job = start_erasure(staff, orders, usages)
    before = changed_records()

    with conflict_on('UPDATE "orders_order"'), pytest.raises(ConcurrentUpdate):
        job_run(job_id=job.pk)

    assert changed_records() == before
    assert Job.objects.get(pk=job.pk).status == "queued"  # the queue runs it again
