"""QA regression in a real Chromium: "Back to the search results" from the erasure preview keeps
what the officer ticked and typed (it used to be a plain link that dropped both)."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_back_from_the_preview_keeps_the_ticks_and_the_reference(page, screenshot, officer, make_order):
    email, customer_id = "ada.back@example.com", uuid.uuid4()
    eligible = make_order(customer_email=email, customer_id=customer_id)
    refused = make_order(customer_email=email, customer_id=customer_id, shipping="unfulfilled")
    untouched = make_order(customer_email=email, customer_id=customer_id)
    also = make_order(
        customer_email=email, customer_id=customer_id, status="cancelled", shipping="unfulfilled"
    )

    page.goto("/privacy/login/")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill("officer-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"/privacy/people/?q={email}")
    page.get_by_label(f"Select order {eligible.pk}").check()
    page.get_by_label(f"Select order {also.pk}").check()
    expect(page.get_by_label(f"Select order {refused.pk}")).to_be_disabled()  # its statuses refuse it
    page.get_by_label("Reason or ticket reference").fill("DSR-BACK-1")
    page.get_by_role("button", name="Preview erasure").click()
    expect(page.get_by_role("heading", name="Preview erasure")).to_be_visible()

    page.get_by_role("button", name="Back to the search results").click()

    expect(page.get_by_role("heading", name=re.compile("4 orders"))).to_be_visible()
    expect(page.get_by_label(f"Select order {eligible.pk}")).to_be_checked()
    expect(page.get_by_label(f"Select order {also.pk}")).to_be_checked()
    expect(page.get_by_label(f"Select order {refused.pk}")).not_to_be_checked()
    expect(page.get_by_label(f"Select order {untouched.pk}")).not_to_be_checked()
    expect(page.get_by_label("Reason or ticket reference")).to_have_value("DSR-BACK-1")
    screenshot("back-to-search")
    assert not Order.objects.filter(anonymized=True).exists()

    # And on again: the restored form previews the same selection.
    page.get_by_role("button", name="Preview erasure").click()
    expect(page.get_by_role("button", name="Anonymize 2 orders and 0 usages")).to_be_visible()
