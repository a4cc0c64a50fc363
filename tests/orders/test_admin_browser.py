"""An officer anonymizes orders in the admin with a real browser (Debian's chromium)."""

from datetime import timedelta

from django.utils import timezone

from orders.admin import OrderAdmin
from orders.models import LegalHold, Order


def test_an_officer_anonymizes_selected_orders_in_the_admin(
    page, screenshot, officer, make_order, monkeypatch
):
    # Two rows a page: ticking the page, then "Select all 4", takes the refused ones in too
    # (they have no checkbox of their own).
    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    make_order(status="complete", payment="paid", shipping="unfulfilled")  # refused: its statuses
    held = make_order(payment="refunded", shipping="unfulfilled")
    eligible = [make_order(), make_order(status="cancelled", shipping="unfulfilled")]  # newest: page 1
    LegalHold.objects.create(
        order=held, reason="Chargeback window", ends_on=timezone.localdate() + timedelta(days=30)
    )

    page.goto("/admin/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "officer-password-1")
    page.click("input[type=submit]")
    page.goto("/admin/orders/order/")
    page.check("#action-toggle")
    page.locator(".question a").click()  # "Select all 4 orders"
    page.select_option("select[name=action]", "anonymize_selected_orders")
    page.click("button[name=index]")

    page.wait_for_selector("#anonymize-summary")
    assert page.locator("#count-eligible .count").inner_text() == "2"
    assert page.locator("#count-refused .count").inner_text() == "2"
    refused_table = page.locator("#refused").inner_text()
    assert "still open (complete, paid, not shipped)" in refused_table
    assert "cancel or refund it in EPCC" in refused_table
    assert "Chargeback window" in refused_table
    screenshot("confirmation")

    page.click("input[value='Anonymize the 2 eligible only']")

    success = page.locator("ul.messagelist li.success")
    success.wait_for()
    assert "Anonymized 2 orders." in success.inner_text()
    screenshot("done")
    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == {o.pk for o in eligible}

    # The anonymized order reads as masked, and offers nothing to edit.
    page.goto(f"/admin/orders/order/{eligible[0].pk}/change/")
    assert "View order" in page.locator("#content h1, #content h2").first.inner_text()
    assert page.locator("input[name=customer_email]").count() == 0
    assert eligible[0].customer_email not in page.content()
    screenshot("anonymized-order")
