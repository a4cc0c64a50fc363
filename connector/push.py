"""The push: send the outbox's pending anonymizations to the store's anonymize endpoints.

Rows of one kind are sent in batches (settings.EPCC_PUSH_BATCH_SIZE ids, oldest
first) to `POST /v2/orders/anonymize` or `POST /v2/rule-promotions/usages/anonymize`.
What the store answers decides each row's state, in one UPDATE per outcome:

- 200: done.
- a 4xx: failed upstream with EPCC's error. EPCC refuses a whole batch when one
  id in it is refused and names that id (`meta.order_id` / `meta.usage_id`):
  those rows fail, the others stay pending and go in the next batch. A 4xx
  naming no id fails the whole batch.
- a timeout, a connection error, a 429 or a 5xx: the batch stays pending,
  tried again after a backoff that doubles per attempt (settings
  EPCC_PUSH_BACKOFF_SECONDS .. EPCC_PUSH_BACKOFF_MAX_SECONDS, or the store's
  Retry-After if longer); the run stops there and says when to run again.

Sending an anonymization twice does no harm (EPCC answers an order already
anonymized as it is, and changes nothing), so a batch whose answer was lost is
simply sent again. No personal value is sent: ids only.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, TextField, Value, When
from django.utils import timezone

from connector.client import StoreClient, StoreRefused, StoreUnavailable, error_text
from core.models import RecordType, UpstreamPush, UpstreamState

ENDPOINTS = {
    RecordType.ORDER: ("/v2/orders/anonymize", "order_ids", "order_id"),
    RecordType.CODE_USAGE: ("/v2/rule-promotions/usages/anonymize", "usage_ids", "usage_id"),
}


@dataclass
class PushResult:
    done: int = 0
    failed: int = 0
    # Set when the store could not be reached: seconds until the next try.
    retry_in: float | None = None
    reason: str = ""


def backoff_seconds(attempts: int) -> float:
    """The wait after the `attempts`-th failed try (1, 2, ...): doubling, capped."""
    return min(
        settings.EPCC_PUSH_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), settings.EPCC_PUSH_BACKOFF_MAX_SECONDS
    )


def _due(record_type: str, limit: int) -> list[tuple[int, uuid.UUID]]:
    rows = (
        UpstreamPush.objects.filter(
            record_type=record_type, state=UpstreamState.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", "record_id")[:limit]
    )
    return list(rows)


def upstream_push_run(*, client: StoreClient, batch_size: int | None = None) -> PushResult:
    """Send every due pending push, batch by batch, until none is left or the store is unreachable."""
    batch_size = batch_size or settings.EPCC_PUSH_BATCH_SIZE
    result = PushResult()
    for record_type, (path, key, meta_key) in ENDPOINTS.items():
        while rows := _due(record_type, batch_size):
            record_ids = list(dict.fromkeys(str(record_id) for _, record_id in rows))
            try:
                client.post(path, {"data": {key: record_ids}})
            except StoreUnavailable as error:
                result.retry_in = _postpone([pk for pk, _ in rows], str(error), error.retry_after)
                result.reason = str(error)
                return result
            except StoreRefused as error:
                result.failed += _refused(rows, error, meta_key)
                continue
            result.done += _mark(
                [pk for pk, _ in rows], state=UpstreamState.DONE, error="", finished_at=timezone.now()
            )
    return result


def _mark(push_ids: list[int], **values) -> int:
    with transaction.atomic():
        return (
            UpstreamPush.objects.filter(pk__in=push_ids, state=UpstreamState.PENDING)
            .order_by()
            .update(attempts=F("attempts") + 1, **values)
        )


def _postpone(push_ids: list[int], reason: str, retry_after: float | None) -> float:
    """The batch stays pending, due again after its backoff; returns the shortest wait."""
    attempts = (
        UpstreamPush.objects.filter(pk__in=push_ids)
        .order_by("attempts")
        .values_list("attempts", flat=True)
        .first()
        or 0
    )
    wait = max(backoff_seconds(attempts + 1), retry_after or 0)
    _mark(
        push_ids,
        error=f"not sent yet: {reason}",
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
    )
    return wait


def _refused(rows: list[tuple[int, uuid.UUID]], error: StoreRefused, meta_key: str) -> int:
    """Fail the rows the store's errors name (or every row when they name none); how many failed."""
    by_record: dict[str, list[int]] = {}
    for pk, record_id in rows:
        by_record.setdefault(str(record_id), []).append(pk)
    named: dict[str, str] = {}
    for entry in error.errors:
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        record_id = str(meta.get(meta_key) or "")
        if record_id in by_record:
            named[record_id] = f"{entry.get('status') or error.status} {error_text(entry)}"
    now = timezone.now()
    if not named:
        reason = str(error)[:1000]
        return _mark([pk for pk, _ in rows], state=UpstreamState.FAILED, error=reason, finished_at=now)
    # One UPDATE for every refused row, each with its own error.
    reasons = {pk: reason[:1000] for record_id, reason in named.items() for pk in by_record[record_id]}
    error_of = Case(
        *(When(pk=pk, then=Value(reason)) for pk, reason in reasons.items()), output_field=TextField()
    )
    return _mark(list(reasons), state=UpstreamState.FAILED, error=error_of, finished_at=now)
