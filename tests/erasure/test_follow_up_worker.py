"""The follow-up and the request's job, run by a real procrastinate worker on the test database.

The officer's scenario of issue 14: a person with one shipped and one unpaid
order; the request ends waiting; an import marks the order shipped; the
follow-up (the periodic task, deferred here as its schedule would) completes it.
"""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from procrastinate import exceptions
from procrastinate.contrib.django import app

from core.audit import Actor
from core.models import AuditRecord, ErasureRequest, Interface
from epcc.documents.orders import order_document
from erasure.models import ItemState
from erasure.services import erasure_request_create
from erasure.tasks import FOLLOW_UP_TASK
from orders.models import Order
from tests.plugins.job_workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(erasure_request):
    return lambda: ErasureRequest.objects.get(pk=erasure_request.pk).status


def request_waiting(subject, officer):
    """The subject's request, opened from the pages and worked by the worker until it waits."""
    erasure_request = erasure_request_create(
        resource_type="email",
        resource_id=subject.email,
        reference="TICKET-42",
        actor=Actor.for_user(officer),
        via=Interface.WEB,
    )
    wait_for(lambda: status_of(erasure_request)() == "waiting", "the request's job")
    return erasure_request


def import_orders(tmp_path, *documents):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"data": list(documents)}))
    call_command("import_ep", str(path))


def test_the_follow_up_is_a_periodic_task_on_the_setting_s_schedule():
    periodic = [
        task for task in app.periodic_registry.periodic_tasks.values() if task.task.name == FOLLOW_UP_TASK
    ]

    assert [task.cron for task in periodic] == [settings.ERASURE_FOLLOW_UP_CRON]
    assert settings.ERASURE_FOLLOW_UP_CRON == "0 * * * *"  # hourly unless configured
    task = app.tasks[FOLLOW_UP_TASK]
    assert task.queueing_lock == FOLLOW_UP_TASK  # at most one waiting
    assert task.lock == FOLLOW_UP_TASK  # at most one running


def test_a_second_follow_up_is_not_queued_while_one_waits(start_worker):
    # start_worker's teardown empties procrastinate's tables; no worker is needed here.
    app.configure_task(FOLLOW_UP_TASK).defer()

    with pytest.raises(exceptions.AlreadyEnqueued):
        app.configure_task(FOLLOW_UP_TASK).defer()


def test_officer_scenario_an_import_and_the_follow_up_complete_the_request(
    subject, officer, start_worker, tmp_path
):
    start_worker()
    erasure_request = request_waiting(subject, officer)
    unpaid = erasure_request.items.get(record_id=subject.unpaid.pk)
    assert unpaid.state == ItemState.WAITING
    assert "payment: unpaid" in unpaid.reason

    # EPCC ships the order: the next import brings its new statuses.
    document = order_document(subject.unpaid.pk)
    document["status"], document["payment"], document["shipping"] = "complete", "paid", "fulfilled"
    import_orders(tmp_path, document)
    assert erasure_request.items.get(record_id=subject.unpaid.pk).state == ItemState.WAITING

    app.configure_task(FOLLOW_UP_TASK).defer()
    wait_for(lambda: status_of(erasure_request)() == "completed", "the follow-up")

    assert Order.objects.get(pk=subject.unpaid.pk).anonymized
    assert AuditRecord.objects.get(record_id=subject.unpaid.pk, action="anonymize").erasure_request_id == (
        erasure_request.pk
    )


def test_an_imported_order_of_the_subject_joins_the_request_and_is_anonymized(
    subject, officer, start_worker, tmp_path, make_order
):
    start_worker()
    erasure_request = request_waiting(subject, officer)
    newcomer = make_order(customer_email="someone@example.com")
    document, newcomer_id = order_document(newcomer.pk), newcomer.pk
    newcomer.delete()
    document["customer"]["email"] = subject.email.upper()

    import_orders(tmp_path, document)

    wait_for(
        lambda: erasure_request.items.filter(record_id=newcomer_id, state=ItemState.ANONYMIZED).exists(),
        "the imported order's job",
    )
    assert Order.objects.get(pk=newcomer_id).anonymized
