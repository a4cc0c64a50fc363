"""The job page in a real Chromium: a real worker runs a retention job while the bar moves to done.

serialized_rollback keeps the "Privacy officers" group (made by a migration)
for the tests that run after this transactional one.
"""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from core.audit import Actor
from core.models import AuditRecord, Job, JobStatus
from orders.models import Order
from privacy.retention import retention_start
from tests.privacy.test_pages_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORDERS, CHUNK = 60, 6


def test_the_progress_bar_moves_to_done_without_reloading(
    page, screenshot, officer, make_order, start_worker, settings
):
    settings.JOBS_CHUNK_SIZE = CHUNK  # the job keeps its chunk size: the worker uses this one
    for _ in range(ORDERS):
        make_order(created_at=datetime(2020, 1, 1, tzinfo=UTC), addresses=False, items=0)
    job = retention_start(
        record_type="orders", cutoff=datetime(2021, 1, 1, tzinfo=UTC), actor=Actor.for_user(officer)
    )
    log_in(page)
    page.goto(f"/privacy/jobs/{job.pk}/")
    expect(page.locator("#job-status")).to_have_text("Queued")
    expect(page.get_by_role("button", name="Cancel the job")).to_be_visible()
    # Every value the bar takes, and a mark a reload would wipe out.
    page.evaluate(
        """() => {
            window.seenValues = [];
            window.notReloaded = true;
            const bar = document.getElementById("job-bar");
            new MutationObserver(() => window.seenValues.push(bar.value))
                .observe(bar, {attributes: true});
            const status = document.getElementById("job-status");
            new MutationObserver(() => window.seenValues.push(bar.value))
                .observe(status, {childList: true, characterData: true, subtree: true});
        }"""
    )
    screenshot("01-queued")

    start_worker()

    expect(page.locator("#job-status")).to_have_text("Done", timeout=60000)
    screenshot("02-done")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#job-bar").evaluate("bar => [bar.value, bar.max]") == [ORDERS, ORDERS]
    seen = page.evaluate("window.seenValues")
    assert seen and seen[-1] == ORDERS and seen == sorted(seen)
    expect(page.locator("#job-done")).to_have_text(str(ORDERS))
    expect(page.locator("#job-changed")).to_have_text(str(ORDERS))
    expect(page.get_by_role("button", name="Cancel the job")).to_be_hidden()
    batches = page.locator("#job-batches a")
    expect(batches).to_have_count(ORDERS // CHUNK)
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
    assert Order.objects.filter(anonymized=True).count() == ORDERS

    batches.first.click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    first_batch = Job.objects.get(pk=job.pk).chunks.get(number=1).batch_id
    expect(page.locator("table tbody tr")).to_have_count(CHUNK)
    assert AuditRecord.objects.filter(batch_id=first_batch).count() == CHUNK
    screenshot("03-audit-of-one-batch")

    page.get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.get_by_role("link", name="Retention: orders")).to_be_visible()
    screenshot("04-jobs")


def test_a_running_job_asked_to_stop_says_cancelling_until_it_stops(page, screenshot, officer, make_order):
    job = retention_start(
        record_type="orders",
        cutoff=datetime(2021, 1, 1, tzinfo=UTC),
        actor=Actor.for_user(officer),
        defer=False,
    )
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)  # a worker has it (none here)
    log_in(page)
    page.goto(f"/privacy/jobs/{job.pk}/")

    page.get_by_role("button", name="Cancel the job").click()

    expect(page.locator("#job-cancelling")).to_have_text(
        "Cancelling… the job stops after the chunk under way."
    )
    expect(page.get_by_role("button", name="Cancel the job")).to_be_hidden()
    page.wait_for_timeout(1500)  # the script polls meanwhile: it keeps the button hidden
    expect(page.get_by_role("button", name="Cancel the job")).to_be_hidden()
    screenshot("cancelling")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)  # the worker stops between chunks
    expect(page.locator("#job-status")).to_have_text("Cancelled", timeout=10000)
    expect(page.locator("#job-cancelling")).to_be_hidden()
