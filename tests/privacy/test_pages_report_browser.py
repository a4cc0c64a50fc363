"""The subject access report in a real Chromium: everything held, record by record, in people's terms.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import pytest
from playwright.sync_api import expect

from tests.privacy.test_pages_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_report_shows_every_record_with_its_personal_fields_marked(
    page, screenshot, officer, make_order, make_usage
):
    email = "katherine.johnson@example.com"
    order = make_order(
        customer_email=email, customer_name="Katherine Johnson", currency="USD", with_tax=123456
    )
    order.items.update(unit_amount=4999, currency="USD")
    make_usage(customer_email=email.upper(), code="MOON10")
    make_order(customer_email="someone.else@example.com")

    log_in(page)
    page.goto(f"/privacy/people/?q={email}")
    page.get_by_role("link", name="Report of everything held").click()
    expect(page.get_by_role("heading", name="Personal data held")).to_be_visible()
    screenshot("report")

    record = page.locator(f"section[aria-labelledby='order-{order.pk}']")
    expect(record).to_contain_text("Katherine Johnson")
    expect(record).to_contain_text("$1,234.56")  # formatted money, thousands separated
    expect(record).to_contain_text("$49.99")
    expect(record).to_contain_text("Shipping address")
    expect(record).to_contain_text("Happy birthday, Ada")  # the attribute's value without its JSON quotes
    assert '"Happy birthday' not in record.inner_text()
    expect(record.locator("dt", has_text="Customer email").locator(".badge.personal")).to_be_visible()
    expect(record.locator("dt", has_text="Status").locator(".badge.personal")).to_have_count(0)
    expect(page.locator("section.report-record")).to_have_count(2)  # one order, one usage
    expect(page.get_by_text("MOON10")).to_be_visible()
    assert "someone.else@example.com" not in page.content()
    expect(page.get_by_role("link", name="The same as JSON (Elastic Path's shape)")).to_be_visible()
