"""An officer anonymizes orders in the admin with a real browser (Debian's chromium)."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone
from playwright.sync_api import expect

from core.models import AuditRecord
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

    page.fill("#id_erasure_reference", "DSR-ADMIN-1")
    page.click("input[value='Anonymize the 2 eligible only']")

    success = page.locator("ul.messagelist li.success").first
    success.wait_for()
    assert "Anonymized 2 orders." in success.inner_text()
    assert "Filed under erasure request “DSR-ADMIN-1”." in page.locator("ul.messagelist").inner_text()
    screenshot("done")
    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == {o.pk for o in eligible}

    # The anonymized order reads as masked, and offers nothing to edit.
    page.goto(f"/admin/orders/order/{eligible[0].pk}/change/")
    assert "View order" in page.locator("#content h1, #content h2").first.inner_text()
    assert page.locator("input[name=customer_email]").count() == 0
    assert eligible[0].customer_email not in page.content()
    screenshot("anonymized-order")


def admin_log_in(page):
    page.goto("/admin/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "officer-password-1")
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_a_select_all_beyond_one_chunk_runs_as_a_job_whose_bar_reaches_done(
    page, screenshot, officer, make_order, start_worker, settings, monkeypatch
):
    from orders.admin import OrderAdmin

    settings.JOBS_CHUNK_SIZE = 4  # the web request's (live server): the job keeps it for the worker
    monkeypatch.setattr(OrderAdmin, "list_per_page", 5)
    orders = [make_order(addresses=False, items=0) for _ in range(14)]
    admin_log_in(page)
    page.goto("/admin/orders/order/?can_be_anonymized=yes")
    page.check("#action-toggle")
    page.click("text=Select all 14 orders")
    page.select_option("select[name=action]", "anonymize_selected_orders")
    page.click("button[name=index]")
    expect(page.locator("#count-eligible .count")).to_have_text("14")
    screenshot("select-all-confirmation")

    page.fill("#id_erasure_reference", "DSR-ADMIN-2")
    page.click("input[value='Yes, anonymize 14 orders']")

    # The job's page, at once: nothing is anonymized inside the request.
    expect(page).to_have_url(re.compile(r"/privacy/jobs/[0-9a-f-]+/$"))
    expect(page.locator("ul.messages")).to_contain_text("Anonymizing 14 orders as a job, 4 chunks of up to 4")
    expect(page.locator("#job-status")).to_have_text("Queued")
    screenshot("select-all-job-queued")
    start_worker()
    expect(page.locator("#job-status")).to_have_text("Done", timeout=60000)
    assert page.locator("#job-bar").evaluate("bar => [bar.value, bar.max]") == [14, 14]
    expect(page.locator("#job-changed")).to_have_text("14")
    expect(page.locator("#job-batches a")).to_have_count(4)
    screenshot("select-all-job-done")
    assert Order.objects.filter(anonymized=True).count() == 14
    assert AuditRecord.objects.count() == 14
    assert sorted(LogEntry.objects.values_list("object_id", flat=True)) == sorted(str(o.pk) for o in orders)

    page.locator("#job-batches a").first.click()
    expect(page.locator("table tbody tr")).to_have_count(4)
    screenshot("select-all-job-audit-batch")


def test_in_a_filtered_list_an_order_held_since_the_confirmation_is_reported_not_dropped(
    page, screenshot, officer, make_order
):
    first, second = make_order(), make_order()
    admin_log_in(page)
    page.goto("/admin/orders/order/?can_be_anonymized=yes")
    for order in (first, second):
        page.check(f"input.action-select[value='{order.pk}']")
    page.select_option("select[name=action]", "anonymize_selected_orders")
    page.click("button[name=index]")
    expect(page.locator("#count-eligible .count")).to_have_text("2")
    # Meanwhile, someone places a hold on one of them.
    LegalHold.objects.create(order=second, reason="Litigation pending")

    page.fill("#id_erasure_reference", "DSR-ADMIN-3")
    page.click("input[value='Yes, anonymize 2 orders']")

    error = page.locator("ul.messagelist li.error")
    expect(error).to_contain_text(
        "Nothing was anonymized: 1 of the selected orders can no longer be anonymized"
    )
    expect(error).to_contain_text("Litigation pending")
    # The selection is kept: the confirmation page again, the held order among those refused.
    expect(page.locator("#count-eligible .count")).to_have_text("1")
    expect(page.locator("#refused")).to_contain_text(str(second.pk))
    expect(page.locator("input[value='Anonymize the 1 eligible only']")).to_be_visible()
    screenshot("filtered-list-held-meanwhile")
    assert not Order.objects.filter(anonymized=True).exists()
    assert page.locator("ul.messagelist li.success").count() == 0
