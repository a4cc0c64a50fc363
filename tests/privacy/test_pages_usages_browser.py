"""The code usage browser in a real Chromium: From/To days, clean URLs, plain errors, emails to Find a person.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.privacy.test_pages_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_usage_browser_filters_a_date_range_with_clean_urls(
    page, screenshot, officer, make_usage, make_order
):
    for day in range(10):
        make_usage(used_on=datetime(2024, 3, 1, 12, tzinfo=UTC) + timedelta(days=day))
    make_order(customer_email="shopper.linked@example.com")
    make_usage(customer_email="shopper.linked@example.com", used_on=datetime(2024, 3, 4, 9, tzinfo=UTC))

    log_in(page)
    page.goto("/privacy/usages/")
    lead = page.locator("p.lead").inner_text()
    assert "filter=" not in lead and "eq(" not in lead
    page.get_by_label("Used from (UTC day)").fill("2024-03-03")
    page.get_by_label("Used to (UTC day)").fill("2024-03-05")
    page.get_by_role("button", name="Filter").click()

    # Only the filled fields travel: no "code=&email=&..." in the address.
    expect(page).to_have_url(re.compile(r"/privacy/usages/\?date_from=2024-03-03&date_to=2024-03-05$"))
    expect(page.locator("tbody tr")).to_have_count(4)  # the 3rd, 4th (two) and 5th, whole days
    screenshot("range")

    # An email leads to everything held about that person.
    page.get_by_role("link", name="shopper.linked@example.com").click()
    expect(page).to_have_url(re.compile(r"/privacy/people/\?q=shopper.linked%40example.com$"))
    expect(page.get_by_role("heading", name=re.compile("1 order and 1 code usage"))).to_be_visible()


def test_a_bad_date_says_so_instead_of_finding_nothing(page, screenshot, officer, make_usage):
    make_usage()

    log_in(page)
    page.goto("/privacy/usages/?date_from=2024-02-30&code=&date_to=")

    expect(page).to_have_url(re.compile(r"/privacy/usages/\?date_from=2024-02-30$"))
    expect(page.get_by_text("Not a date: use the date picker, or type it as YYYY-MM-DD.")).to_be_visible()
    expect(page.get_by_text("Fix the filters above: nothing was searched.")).to_be_visible()
    expect(page.get_by_text("No code usages match")).to_have_count(0)
    screenshot("bad-date")
