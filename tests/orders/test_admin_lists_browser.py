"""The order list and an order's page in the admin, in a real Chromium at 1280 px."""

from datetime import timedelta

from django.utils import timezone

from orders.models import LegalHold

# The widest values each column can hold: long statuses, a long email, a legal hold.
LONG_EMAIL = "bartholomew.featherstonehaugh-wolfeschlegelsteinhausen@subdomain.example.museum"


def admin_log_in(page):
    page.goto("/admin/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "officer-password-1")
    page.click("input[type=submit]")


def table_overflow(page) -> dict:
    """How far the change list's table reaches past its box, and past the window."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const box = table.parentElement;
            return {
                table: table.scrollWidth - box.clientWidth,
                page: document.documentElement.scrollWidth - window.innerWidth,
                last_column_right: table.querySelector('thead th:last-child').getBoundingClientRect().right,
            };
        }"""
    )


def test_the_order_list_fits_1280_px_and_offers_no_checkbox_that_cannot_work(
    page, screenshot, officer, make_order
):
    eligible = make_order(customer_email=LONG_EMAIL)
    refused = make_order(status="processing", payment="partially_authorized", shipping="unfulfilled")
    held = make_order(payment="refunded", shipping="unfulfilled", customer_email=LONG_EMAIL.upper())
    LegalHold.objects.create(
        order=held, reason="Chargeback", ends_on=timezone.localdate() + timedelta(days=9)
    )
    done = make_order(anonymized=True, customer_email="**")

    admin_log_in(page)
    page.goto("/admin/orders/order/")
    screenshot("order-list")

    overflow = table_overflow(page)
    assert overflow["table"] <= 0 and overflow["page"] <= 0, overflow
    assert overflow["last_column_right"] <= 1280
    headers = page.locator("#result_list thead").inner_text().lower()
    assert "anonymized" in headers and "can be anonymized" in headers
    # Only the eligible order can be ticked; the others say why not.
    assert page.locator(f"input.action-select[value='{eligible.pk}']").is_enabled()
    for order in (refused, held, done):
        row = page.locator("#result_list tbody tr").filter(has_text=str(order.pk)[:8])
        assert row.locator("input.action-select").count() == 0
        assert row.locator("input[type=checkbox]").is_disabled()
    # "Select all on this page" ticks what can be ticked and counts it so.
    page.check("#action-toggle")
    assert page.locator(".action-counter").inner_text().startswith("1 of 4 selected")


def test_an_orders_page_shows_values_as_people_read_them(page, screenshot, officer, make_order):
    order = make_order(currency="EUR", attributes={"gift_message": "**", "wrap": True, "lines": [1, 2]})
    order.items.update(unit_amount=6500, currency="EUR")

    admin_log_in(page)
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    screenshot("order-page")

    attributes = page.locator("#custom_attributes-group").inner_text()
    assert '"**"' not in attributes and "**" in attributes
    assert "true" in attributes and "[1, 2]" in attributes
    items = page.locator("#items-group").inner_text()
    assert "€65.00" in items
    assert "6500" not in items  # no minor units beside the formatted price
