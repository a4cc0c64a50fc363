"""The dashboard in a real Chromium: figures that lead to their lists, the weekly chart, activity by request.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.audit import Actor
from core.models import Interface
from orders.models import LegalHold
from orders.services import orders_anonymize
from privacy.models import BacklogSnapshot
from tests.privacy.filing import erasure_request_fulfil
from tests.privacy.test_pages_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_dashboard_links_its_figures_charts_the_weeks_and_groups_activity(
    page, screenshot, officer, make_order, make_usage
):
    waiting = [make_order() for _ in range(3)]
    make_order(shipping="unfulfilled")  # not yet: its statuses
    for n in range(25):  # more holds than the dashboard lists
        LegalHold.objects.create(order=make_order(shipping="unfulfilled"), reason=f"Hold {n:02d}")
    subject = make_order(customer_email="erase.me@example.com")
    usage = make_usage(customer_email="erase.me@example.com")
    actor = Actor.for_user(officer)
    erasure_request_fulfil(reference="DSR-1234", order_ids=[subject.pk], usage_ids=[usage.pk], actor=actor)
    orders_anonymize(order_ids=[waiting[0].pk], actor=actor, via=Interface.API)
    today = timezone.localdate()
    BacklogSnapshot.objects.create(day=today - timedelta(weeks=2), waiting_orders=12345)
    BacklogSnapshot.objects.create(day=today - timedelta(weeks=1), waiting_orders=2500)

    log_in(page)
    screenshot("dashboard")

    # Thousands separators, and the chart: 12 weeks, this week's bars, the snapshots as points.
    chart = page.locator("#activity-chart")
    expect(chart.locator("svg")).to_be_visible()
    assert chart.locator("rect.bar").count() == 12
    assert chart.locator("circle.point").count() == 3  # two snapshots and this week's live figure
    expect(chart.locator("text.value", has_text="12,345")).to_be_visible()
    expect(chart.get_by_text("recorded since", exact=False)).to_be_visible()
    assert chart.locator("rect.bar").last.get_attribute("height") != "0.0"  # this week's 3 anonymized

    # Recent activity: one row for the erasure request (an order and a usage), one for the API batch.
    rows = page.locator("#recent-activity tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Erasure request “DSR-1234”")
    expect(rows.nth(1)).to_contain_text("1 order, 1 code usage")
    expect(rows.nth(0)).to_contain_text("Anonymized")
    assert "erase.me@example.com" not in page.content()

    # Each figure leads to the list behind it.
    page.locator("#figure-waiting").click()
    expect(page).to_have_url(re.compile(r"/admin/orders/order/\?can_be_anonymized=yes$"))
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.go_back()
    page.locator("#figure-held").click()
    expect(page.get_by_role("heading", name="Legal holds in force")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(25)  # every hold, not only the first 20
    screenshot("holds")
    page.go_back()
    page.locator("#figure-usages-anonymized").click()
    expect(page).to_have_url(re.compile(r"/privacy/usages/\?anonymized=true$"))
    expect(page.locator("tbody tr")).to_have_count(1)
