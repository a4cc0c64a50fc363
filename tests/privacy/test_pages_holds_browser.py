"""Legal holds and refusals on the privacy pages, in a real Chromium: plain words, a release that asks why.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import re

import pytest
from playwright.sync_api import expect

from core.models import AuditAction, AuditRecord
from orders.models import LegalHold
from tests.privacy.test_pages_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_hold_is_released_with_a_reason_after_a_confirmation_step(page, screenshot, officer, make_order):
    order = make_order(customer_email="held.person@example.com")
    hold = LegalHold.objects.create(order=order, reason="Chargeback window")

    log_in(page)
    page.goto(f"/privacy/orders/{order.pk}/")
    expect(page.locator("#refusal")).to_have_text(
        "Not while the legal hold lasts (until further notice: Chargeback window). "
        "Try again when it ends, or release the hold on the order's page if it no longer applies."
    )
    screenshot("order-held")

    page.get_by_role("link", name="Release…").click()
    expect(page.get_by_role("heading", name="Release a legal hold")).to_be_visible()
    page.get_by_role("button", name="Release the hold").click()  # no reason yet
    expect(page.get_by_text("Give the reason the hold no longer applies.")).to_be_visible()
    hold.refresh_from_db()
    assert hold.released_at is None
    screenshot("release-needs-a-reason")

    page.get_by_label("Why is the hold released?").fill("Chargeback window closed")
    page.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_text("Legal hold released; the reason is in the audit trail.")).to_be_visible()
    expect(page.get_by_text("released", exact=False).first).to_be_visible()
    screenshot("released")

    record = AuditRecord.objects.get(action=AuditAction.HOLD_RELEASED)
    assert record.note == "Chargeback window closed"
    page.goto("/privacy/audit/")
    expect(page.get_by_text("“Chargeback window closed”")).to_be_visible()
    assert "held.person@example.com" not in page.content()
    screenshot("audit-trail")


def test_nothing_to_erase_offers_no_preview_and_no_ticks(page, screenshot, officer, make_order):
    email = "still.shopping@example.com"
    make_order(customer_email=email, shipping="unfulfilled")
    make_order(customer_email=email, status="processing", payment="authorized", shipping="unfulfilled")

    log_in(page)
    page.goto(f"/privacy/people/?q={email}")
    expect(page.get_by_role("heading", name=re.compile("2 orders"))).to_be_visible()
    screenshot("search-nothing-eligible")

    # Nothing to tick: a request covers every record found, and these two would wait.
    assert page.locator("input[name=order_ids]").count() == 0
    expect(page.get_by_text("still open (being processed, payment authorized, not shipped)")).to_be_visible()
    assert "order:processing" not in page.content()
