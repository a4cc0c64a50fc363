"""The privacy officer's pages in a real Chromium: log in, find, start a request, receipt; holds.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import AuditRecord, ErasureRequest
from orders.models import LegalHold, Order
from promotions.models import CodeUsage

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


OFFICER = ("officer", "officer-password-1")


def log_in(page, credentials=OFFICER):
    username, password = credentials
    page.goto("/privacy/")
    expect(page).to_have_url(re.compile(r"/privacy/login/\?next=/privacy/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.fixture
def subject(make_order, make_usage, make_promotion):
    email = "grace.hopper@example.com"
    customer_id = uuid.uuid4()
    eligible = make_order(customer_email=email, customer_name="Grace Hopper", customer_id=customer_id)
    refused = make_order(
        customer_email=email, customer_name="Grace Hopper", customer_id=customer_id, shipping="unfulfilled"
    )
    spring = make_promotion(name="Spring sale")
    usage = make_usage(promotion=spring, code="SPRING20", customer_email="Grace.Hopper@Example.com")
    make_order(customer_email="someone.else@example.com", shipping="unfulfilled")
    return {"email": email, "eligible": eligible, "refused": refused, "usage": usage}


def test_find_start_a_request_and_read_the_receipt(page, screenshot, officer, subject, start_worker):
    start_worker()
    page.goto("/privacy/login/")
    screenshot("01-login")
    log_in(page)
    screenshot("02-dashboard")

    page.get_by_label("Email, customer id, order id or account id").first.fill("GRACE.HOPPER@example.com")
    page.get_by_role("button", name="Find").first.click()
    expect(page.get_by_role("heading", name=re.compile("2 orders and 1 code usage"))).to_be_visible()
    expect(page.get_by_text("still open (complete, paid, not shipped)")).to_be_visible()
    screenshot("03-search")

    # No reference: the page says so.
    page.get_by_role("button", name="Preview erasure request").click()
    expect(page.get_by_text("Give a reason or a ticket reference")).to_be_visible()
    screenshot("04-reference-required")

    page.get_by_label("Reason or ticket reference").fill("DSR-2024-0042")
    page.get_by_role("button", name="Preview erasure request").click()
    expect(page.get_by_role("heading", name="Preview erasure request")).to_be_visible()
    expect(page.get_by_text("shipping_address.line_1")).to_be_visible()
    expect(page.get_by_text("customer_email", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Will wait")).to_be_visible()
    screenshot("05-preview")
    assert not Order.objects.filter(anonymized=True).exists()

    page.get_by_role("button", name=re.compile("^Start the request: anonymize 1 order and 1 usage")).click()
    expect(page.get_by_role("heading", name="Erasure request DSR-2024-0042")).to_be_visible()
    # The worker handles the records; the page says what is next once it has.
    for _ in range(60):
        if "record waits" in page.locator("#next-step").inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#next-step")).to_contain_text("1 record waits")
    screenshot("06-request-waiting")

    page.get_by_role("link", name="Receipt").click()
    expect(page.get_by_role("heading", name="Erasure receipt")).to_be_visible()
    expect(page.get_by_text("DSR-2024-0042").first).to_be_visible()
    expect(page.get_by_text("payment: paid, shipping: unfulfilled")).to_be_visible()
    screenshot("07-receipt")
    page.emulate_media(media="print")
    screenshot("08-receipt-print")
    page.emulate_media(media="screen")

    erasure_request = ErasureRequest.objects.get()
    audited = AuditRecord.objects.filter(erasure_request=erasure_request).values_list("record_id", flat=True)
    assert set(audited) == {subject["eligible"].pk, subject["usage"].pk}
    receipt = page.content()
    assert "grace" not in receipt.lower()
    assert Order.objects.get(pk=subject["eligible"].pk).customer_email == "**"
    assert CodeUsage.objects.get(pk=subject["usage"].pk).anonymized
    assert not Order.objects.get(pk=subject["refused"].pk).anonymized

    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    screenshot("09-audit")
    page.get_by_role("link", name="Code usages").click()
    expect(page.get_by_role("heading", name="Promotion code usages")).to_be_visible()
    screenshot("10-usages")


def test_a_held_order_is_refused_with_a_message_naming_the_hold(page, screenshot, officer, subject):
    order = subject["eligible"]
    log_in(page)
    page.goto(f"/privacy/orders/{order.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Order"))).to_be_visible()
    screenshot("01-order")

    page.get_by_label("Reason").fill("Chargeback window")
    page.get_by_label("Last day of the hold").fill((timezone.localdate() + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Place hold").click()
    expect(page.get_by_text("Legal hold placed until")).to_be_visible()
    expect(page.locator("#refusal")).to_contain_text("Not while the legal hold lasts")
    expect(page.locator("#refusal")).to_contain_text(": Chargeback window)")
    screenshot("02-order-held")
    assert LegalHold.objects.filter(order=order).count() == 1

    page.get_by_role("link", name="Find a person").click()
    page.get_by_label("Email, customer id, order id or account id").fill(subject["email"])
    page.get_by_role("button", name="Find").click()
    page.get_by_label("Reason or ticket reference").fill("DSR-7")
    page.get_by_role("button", name="Preview erasure request").click()
    expect(page.get_by_role("heading", name="Will wait")).to_be_visible()
    expect(page.get_by_text("(Chargeback window)")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("anonymize 0 orders"))).to_be_visible()
    screenshot("03-preview-held")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Legal holds in force")).to_be_visible()
    expect(page.get_by_role("cell", name="Chargeback window", exact=True)).to_be_visible()
    screenshot("04-dashboard-with-hold")

    page.goto(f"/privacy/orders/{order.pk}/")
    page.get_by_role("link", name="Release…").click()
    page.get_by_label("Why is the hold released?").fill("Chargeback window closed")
    page.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_text("Legal hold released")).to_be_visible()
    screenshot("05-released")
    assert not Order.objects.get(pk=order.pk).anonymized


def test_a_viewer_sees_results_but_no_erasure_and_a_403_page(
    page, screenshot, viewer, subject, django_user_model
):
    log_in(page, ("viewer", "viewer-password-1"))
    page.goto(f"/privacy/people/?q={subject['email']}")
    expect(page.get_by_role("heading", name=re.compile("2 orders"))).to_be_visible()
    expect(page.get_by_role("button", name="Preview erasure")).to_have_count(0)
    screenshot("01-viewer-search")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/privacy/login/$"))

    django_user_model.objects.create_user("nobody", password="nobody-password-1")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("nobody-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    screenshot("02-forbidden")
