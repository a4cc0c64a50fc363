"""Personal values that look like markup render as text, in the admin and the privacy pages.

EPCC data is typed by shoppers: a name, an email, an address line or a custom
attribute may be `<script>alert(1)</script>`. A real Chromium loads every page
that shows them; a `dialog` handler records any alert that runs, and the
literal text must be visible on the page.
"""

import re

import pytest
from playwright.sync_api import expect

from orders.models import OrderAddress

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NAME = "<script>alert('name')</script>"
EMAIL = "\"><img src=x onerror=alert('email')>@example.com"
CONTACT = "<svg onload=alert('contact')>"
LINE_1 = "<img src=x onerror=alert('address')>"
ATTRIBUTE = "<script>alert('attribute')</script>"
REFERENCE = "<script>alert('reference')</script>"
OFFICER = ("officer", "officer-password-1")


@pytest.fixture
def alerts(page):
    """Every JavaScript dialog the page opens (each dismissed, so nothing blocks)."""
    fired = []

    def record(dialog):
        fired.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return fired


@pytest.fixture
def hostile(make_order, make_usage):
    order = make_order(
        shipping="fulfilled",
        customer_name=NAME,
        customer_email=EMAIL,
        contact_name=CONTACT,
        attributes={"note": ATTRIBUTE},
    )
    OrderAddress.objects.filter(order=order).update(line_1=LINE_1, first_name=NAME)
    usage = make_usage(customer_email=EMAIL)
    return order, usage


def log_in_to_pages(page):
    username, password = OFFICER
    page.goto("/privacy/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def log_in_to_admin(page):
    username, password = OFFICER
    page.goto("/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def shows_literally(page, text: str):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def test_the_privacy_pages_show_markup_in_personal_values_as_text(page, alerts, screenshot, officer, hostile):
    order, usage = hostile
    log_in_to_pages(page)

    page.goto(f"/privacy/orders/{order.pk}/")
    shows_literally(page, NAME)
    shows_literally(page, EMAIL)
    shows_literally(page, CONTACT)
    screenshot("order")

    page.goto(f"/privacy/people/?q={order.customer_id}")
    expect(page.get_by_role("heading", name=re.compile("order"))).to_be_visible()
    page.content()  # the whole result page rendered
    screenshot("search")

    page.goto("/privacy/usages/")
    screenshot("usages")

    # The officer's own input travels through the preview, the request and its receipt.
    page.goto(f"/privacy/people/?q={order.customer_id}")
    page.get_by_label("Reason or ticket reference").fill(REFERENCE)
    page.get_by_role("button", name="Preview erasure request").click()
    shows_literally(page, REFERENCE)
    screenshot("preview")
    page.get_by_role("button", name=re.compile("^Start the request")).click()
    shows_literally(page, REFERENCE)
    screenshot("request")
    page.get_by_role("link", name="Receipt").click()
    shows_literally(page, REFERENCE)
    screenshot("receipt")
    page.goto("/privacy/requests/")
    shows_literally(page, REFERENCE)

    assert alerts == []


def test_the_admin_shows_markup_in_personal_values_as_text(page, alerts, screenshot, officer, hostile):
    order, usage = hostile
    log_in_to_admin(page)

    page.goto("/admin/orders/order/")
    shows_literally(page, EMAIL)
    screenshot("order-list")

    page.goto(f"/admin/orders/order/{order.pk}/change/")
    page.wait_for_load_state("load")
    html = page.content()
    # Read-only inlines and fields: the values are there, escaped, never as live tags.
    assert "&lt;script&gt;alert('name')&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert('address')&gt;" in html
    assert "<script>alert(" not in html
    shows_literally(page, NAME)
    screenshot("order-change")

    page.goto("/admin/promotions/codeusage/")
    shows_literally(page, EMAIL)

    # The confirmation page of the bulk action lists the selection.
    page.goto("/admin/orders/order/")
    page.locator(f"input[name=_selected_action][value='{order.pk}']").check()
    page.locator("select[name=action]").select_option("anonymize_selected_orders")
    page.locator("button[name=index]").first.click()  # "Go" (not the header's log-out button)
    expect(page.get_by_role("heading", name=re.compile("Anonymize selected orders"))).to_be_visible()
    screenshot("confirmation")

    assert alerts == []
