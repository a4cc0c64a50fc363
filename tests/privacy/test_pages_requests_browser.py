"""An officer's erasure request in a real Chromium, with a real worker: start it, find it in the list,
extend it, exclude a record, and watch the follow-up complete it after an import ships the last order.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import json
import re
import uuid

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from procrastinate.contrib.django import app

from core.models import ErasureRequest
from epcc.documents.orders import order_document
from erasure.tasks import FOLLOW_UP_TASK
from orders.models import Order
from tests.privacy.test_pages_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def reload_until(page, locator, text, tries=60):
    for _ in range(tries):
        if text in page.locator(locator).inner_text():
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(locator)).to_contain_text(text)


def test_an_officer_works_a_request_to_completion(
    page, screenshot, officer, make_order, start_worker, tmp_path
):
    email, customer_id = "ada.case@example.com", uuid.uuid4()
    shipped = make_order(customer_email=email, customer_name="Ada Case", customer_id=customer_id)
    unpaid = make_order(
        customer_email=email,
        customer_name="Ada Case",
        customer_id=customer_id,
        payment="unpaid",
        shipping="unfulfilled",
    )
    disputed = make_order(
        customer_email=email, customer_name="Ada Case", customer_id=customer_id, shipping="unfulfilled"
    )
    start_worker()
    log_in(page)

    # Start it from Find a person, received a week ago.
    page.goto(f"/privacy/people/?q={email}")
    page.get_by_label("Reason or ticket reference").fill("DSR-CASE-1")
    page.get_by_label("Received on").fill("2026-11-28")
    page.get_by_role("button", name="Preview erasure request").click()
    expect(page.get_by_text("due 2026-12-28")).to_be_visible()
    # Back and on again keeps what was typed.
    page.get_by_role("button", name="Back to the search results").click()
    expect(page.get_by_label("Reason or ticket reference")).to_have_value("DSR-CASE-1")
    page.get_by_role("button", name="Preview erasure request").click()
    page.get_by_role("button", name=re.compile("^Start the request")).click()
    reload_until(page, "#next-step", "2 records wait")
    screenshot("01-request-waiting")
    assert Order.objects.get(pk=shipped.pk).anonymized

    # The list and the dashboard show it.
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_role("link", name="DSR-CASE-1")).to_be_visible()
    screenshot("02-list")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Erasure requests")).to_be_visible()
    screenshot("03-dashboard")
    page.get_by_role("link", name="waiting", exact=True).click()
    expect(page.get_by_role("link", name="DSR-CASE-1")).to_be_visible()
    page.get_by_role("link", name="DSR-CASE-1").click()

    # Extend, with a reason; once only.
    page.get_by_label("Why more time is needed").fill("Orders still in fulfilment")
    page.get_by_role("button", name="Extend").click()
    expect(page.get_by_text("The due date is extended.")).to_be_visible()
    expect(page.get_by_text("extended by 2 months to")).to_be_visible()
    expect(page.get_by_role("button", name="Extend")).to_have_count(0)

    # Exclude the disputed order, with a reason.
    row = page.locator(f"tr:has-text('{disputed.pk}')")
    row.get_by_text("Exclude…").click()
    row.get_by_role("button", name="Exclude this record").click()  # no reason: the browser asks for one
    expect(row.get_by_label("Why this record is kept")).to_be_focused()
    row.get_by_label("Why this record is kept").fill("Open chargeback dispute")
    row.get_by_role("button", name="Exclude this record").click()
    expect(page.get_by_text("The record is excluded from the request.")).to_be_visible()
    expect(page.locator("#next-step")).to_contain_text("1 record waits")
    screenshot("04-extended-and-excluded")

    # EPCC ships the unpaid order; the import brings it, the follow-up completes the request.
    document = order_document(unpaid.pk)
    document["payment"], document["shipping"] = "paid", "fulfilled"
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"data": [document]}))
    call_command("import_ep", str(path))
    app.configure_task(FOLLOW_UP_TASK).defer()
    reload_until(page, "#next-step", "Done")
    screenshot("05-completed")

    page.get_by_role("link", name="Receipt").click()
    expect(page.get_by_text("Open chargeback dispute")).to_be_visible()
    expect(page.get_by_text("Nothing waits.")).to_be_visible()
    screenshot("06-receipt")
    html = page.content()
    assert email not in html.lower() and "Ada Case" not in html
    erasure_request = ErasureRequest.objects.get()
    assert erasure_request.status == "completed"
    assert Order.objects.get(pk=unpaid.pk).anonymized
    assert not Order.objects.get(pk=disputed.pk).anonymized
