"""The code usage list in the admin, in a real Chromium at 1280 px.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after these transactional ones.
"""

import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LONG_EMAIL = "bartholomew.featherstonehaugh-wolfeschlegelsteinhausen@subdomain.example.museum"


def test_the_usage_list_fits_1280_px_and_offers_no_checkbox_on_anonymized_usages(
    page, screenshot, officer, make_usage, make_promotion
):
    promotion = make_promotion(name="The Very Long Black Friday Weekend Mega Deal For Loyal Customers")
    open_usage = make_usage(promotion=promotion, code="BLACKFRIDAY2024WEEKEND", customer_email=LONG_EMAIL)
    done = make_usage(anonymized=True, customer_email="**", times_used=12345)

    page.goto("/admin/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "officer-password-1")
    page.click("input[type=submit]")
    page.goto("/admin/promotions/codeusage/")
    screenshot("usage-list")

    overflow = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            return [table.scrollWidth - table.parentElement.clientWidth,
                    document.documentElement.scrollWidth - window.innerWidth];
        }"""
    )
    assert overflow[0] <= 0 and overflow[1] <= 0, overflow
    assert "anonymized" in page.locator("#result_list thead").inner_text().lower()
    assert page.locator(f"input.action-select[value='{open_usage.pk}']").is_enabled()
    done_row = page.locator("#result_list tbody tr").filter(has_text=str(done.pk)[:8])
    assert done_row.locator("input.action-select").count() == 0
    assert done_row.locator("input[type=checkbox]").is_disabled()
    assert "12,345" in done_row.inner_text()  # thousands separators in the admin too
