"""connector.push in this process against the real store instance: what each answer does to the rows."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from connector.client import StoreClient
from connector.push import backoff_seconds, upstream_push_run
from core.models import RecordType, UpstreamPush, UpstreamState

pytestmark = pytest.mark.django_db


def pending(record_type=RecordType.ORDER, record_id=None) -> UpstreamPush:
    return UpstreamPush.objects.create(
        record_type=record_type, record_id=record_id or uuid.uuid4(), batch_id=uuid.uuid4()
    )


def test_a_record_the_store_does_not_hold_fails_upstream_with_epccs_404(store_up):
    unknown_order, unknown_usage = pending(), pending(RecordType.CODE_USAGE)
    with StoreClient.from_settings() as client:
        result = upstream_push_run(client=client)
    assert (result.done, result.failed, result.retry_in) == (0, 2, None)
    unknown_order.refresh_from_db()
    unknown_usage.refresh_from_db()
    assert unknown_order.state == UpstreamState.FAILED and unknown_order.attempts == 1
    assert unknown_order.error == f"404 Not Found: No order found with id {unknown_order.record_id}"
    assert unknown_usage.error.startswith("404 ") and str(unknown_usage.record_id) in unknown_usage.error


def test_an_unreachable_store_leaves_the_batch_pending_until_its_backoff_ends(store_up, settings):
    settings.EPCC_PUSH_BACKOFF_SECONDS = 10
    rows = [pending(), pending()]
    store_up.stop()
    before = timezone.now()
    with StoreClient.from_settings() as client:
        result = upstream_push_run(client=client)
        assert result.retry_in == 10 and "could not reach the store" in result.reason
        for row in rows:
            row.refresh_from_db()
            assert (row.state, row.attempts) == (UpstreamState.PENDING, 1)
            assert row.next_attempt_at >= before + timedelta(seconds=10)
            assert row.error.startswith("not sent yet: could not reach the store")
        # Not due yet: a second run sends nothing and does not count an attempt.
        assert upstream_push_run(client=client).retry_in is None
    assert set(UpstreamPush.objects.values_list("attempts", flat=True)) == {1}


def test_the_backoff_doubles_up_to_its_ceiling(settings):
    settings.EPCC_PUSH_BACKOFF_SECONDS, settings.EPCC_PUSH_BACKOFF_MAX_SECONDS = 10, 60
    assert [backoff_seconds(n) for n in range(1, 6)] == [10, 20, 40, 60, 60]
