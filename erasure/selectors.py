"""Reads of the erasure request case file: lists, items, receipts. Each costs a fixed number of queries."""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from core.models import ERASURE_REQUEST_CLOSED, AuditRecord, ErasureRequest, ErasureRequestStatus, Job
from core.upstream import upstream_configured, upstream_state_text, upstream_states
from erasure.models import ErasureRequestItem, ItemState
from erasure.services import ERASURE_REQUEST_JOB

# A request due within this many days (and not closed) is marked as due soon.
DUE_SOON_DAYS = 7


class DueFilter:
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"


def _due_soon_window(today: date) -> tuple[date, date]:
    return today, today + timedelta(days=DUE_SOON_DAYS)


def _due_q(due: str, today: date) -> Q:
    """Not closed and due before today (overdue), or due within DUE_SOON_DAYS (due soon)."""
    extended, not_extended = Q(extended_due_on__isnull=False), Q(extended_due_on__isnull=True)
    if due == DueFilter.OVERDUE:
        return (not_extended & Q(due_on__lt=today)) | (extended & Q(extended_due_on__lt=today))
    start, end = _due_soon_window(today)
    return (not_extended & Q(due_on__range=(start, end))) | (
        extended & Q(extended_due_on__range=(start, end))
    )


def erasure_requests(*, status: str = "", due: str = "", today: date | None = None):
    """Requests, newest first; one status, or only overdue / due-soon ones (not closed), when given."""
    today = today or timezone.localdate()
    found = ErasureRequest.objects.select_related("created_by", "created_by_api_key").order_by(
        "-created_at", "-pk"
    )
    if status:
        found = found.filter(status=status)
    if due in (DueFilter.OVERDUE, DueFilter.DUE_SOON):
        found = found.not_closed().filter(_due_q(due, today))
    return found.annotate(
        items_total=Count("items"),
        items_anonymized=Count("items", filter=Q(items__state=ItemState.ANONYMIZED)),
        items_waiting=Count("items", filter=Q(items__state=ItemState.WAITING)),
        items_pending=Count("items", filter=Q(items__state=ItemState.PENDING)),
        items_excluded=Count("items", filter=Q(items__state=ItemState.EXCLUDED)),
    )


def due_mark(erasure_request: ErasureRequest, today: date | None = None) -> str:
    """ "overdue", "due_soon" or "" for one request (the lists' marks)."""
    today = today or timezone.localdate()
    if erasure_request.status in ERASURE_REQUEST_CLOSED:
        return ""
    if erasure_request.due < today:
        return DueFilter.OVERDUE
    if erasure_request.due <= today + timedelta(days=DUE_SOON_DAYS):
        return DueFilter.DUE_SOON
    return ""


@dataclass
class ErasureRequestCounts:
    open: int
    waiting: int
    overdue: int
    due_soon: int


def erasure_request_counts(today: date | None = None) -> ErasureRequestCounts:
    """How many requests are open, waiting, overdue and due within a week: one aggregate query."""
    today = today or timezone.localdate()
    not_closed = ~Q(status__in=ERASURE_REQUEST_CLOSED)
    counts = ErasureRequest.objects.aggregate(
        open=Count("pk", filter=Q(status=ErasureRequestStatus.OPEN)),
        waiting=Count("pk", filter=Q(status=ErasureRequestStatus.WAITING)),
        overdue=Count("pk", filter=not_closed & _due_q(DueFilter.OVERDUE, today)),
        due_soon=Count("pk", filter=not_closed & _due_q(DueFilter.DUE_SOON, today)),
    )
    return ErasureRequestCounts(**counts)


def erasure_request_items(erasure_request: ErasureRequest) -> list[ErasureRequestItem]:
    """The request's items: orders first, then code usages, each by record id."""
    return list(erasure_request.items.order_by("-record_type", "record_id"))


def erasure_request_upstream(records) -> dict[tuple[str, uuid.UUID], str]:
    """Where each anonymized record's push to the EPCC store stands, in plain words, by
    (record type, id); empty when no store is configured. One query per record type.

    `records`: anything with `record_type`, `record_id` and `state` (items, receipt lines).
    """
    if not upstream_configured():
        return {}
    by_type: dict[str, list] = {}
    for record in records:
        if record.state == ItemState.ANONYMIZED:
            by_type.setdefault(record.record_type, []).append(record.record_id)
    states = {
        (record_type, pk): status
        for record_type, ids in by_type.items()
        for pk, status in upstream_states(record_type, ids).items()
    }
    return {
        (record_type, pk): upstream_state_text(states.get((record_type, pk)))
        for record_type, ids in by_type.items()
        for pk in ids
    }


def erasure_request_jobs(erasure_request: ErasureRequest) -> list[Job]:
    """The jobs that settled (or settle) the request's items, newest first."""
    return list(
        Job.objects.filter(
            kind=ERASURE_REQUEST_JOB, params__erasure_request=str(erasure_request.pk)
        ).order_by("-created_at")
    )


@dataclass
class ReceiptLine:
    record_type: str
    record_id: uuid.UUID
    state: str
    fields: list[str] = field(default_factory=list)  # names of the fields anonymized, never values
    at: object = None
    batch_id: uuid.UUID | None = None
    reason: str = ""
    waiting_until: date | None = None
    upstream: str = ""  # where its push to the EPCC store stands (a store configured), in plain words


@dataclass
class Receipt:
    erasure_request: ErasureRequest
    anonymized: list[ReceiptLine]
    waiting: list[ReceiptLine]
    excluded: list[ReceiptLine]
    pending: list[ReceiptLine]
    # Anonymizations filed under the request without an item (made before items existed).
    other_records: list[AuditRecord] = field(default_factory=list)

    @property
    def anonymized_count(self) -> int:
        return len(self.anonymized) + len(self.other_records)

    @property
    def waiting_count(self) -> int:
        return len(self.waiting) + len(self.pending)


def erasure_request_receipt(erasure_request: ErasureRequest) -> Receipt:
    """What was done for a request: anonymized (ids and field names), waiting and why, excluded and why.

    Three queries: the items, the request's audit records, and nothing per row.
    """
    items = erasure_request_items(erasure_request)
    records = list(
        erasure_request.audit_records.filter(action="anonymize").order_by("-record_type", "record_id", "at")
    )
    audited = {(record.record_type, record.record_id): record for record in records}
    lines: dict[str, list[ReceiptLine]] = {state: [] for state in ItemState.values}
    for item in items:
        record = audited.get((item.record_type, item.record_id))
        lines[item.state].append(
            ReceiptLine(
                record_type=item.record_type,
                record_id=item.record_id,
                state=item.state,
                fields=list(record.fields) if record else [],
                at=record.at if record else item.anonymized_at or item.excluded_at,
                batch_id=record.batch_id if record else item.batch_id,
                reason=item.reason,
                waiting_until=item.waiting_until,
            )
        )
    upstream = erasure_request_upstream(items)
    for line in lines[ItemState.ANONYMIZED]:
        line.upstream = upstream.get((line.record_type, line.record_id), "")
    itemized = {(item.record_type, item.record_id) for item in items}
    return Receipt(
        erasure_request=erasure_request,
        anonymized=lines[ItemState.ANONYMIZED],
        waiting=lines[ItemState.WAITING],
        excluded=lines[ItemState.EXCLUDED],
        pending=lines[ItemState.PENDING],
        other_records=[r for r in records if (r.record_type, r.record_id) not in itemized],
    )


def erasure_requests_open_for_choice(limit: int = 200) -> list[ErasureRequest]:
    """Requests not closed, newest first: what the admin's confirmation page offers to file under."""
    return list(ErasureRequest.objects.not_closed().order_by("-created_at")[:limit])


def erasure_request_next_step(erasure_request: ErasureRequest, jobs: list[Job] | None = None) -> str:
    """What the officer should do next, in plain words (from the annotated counts of erasure_requests)."""
    status = erasure_request.status
    due = erasure_request.due
    if status == ErasureRequestStatus.COMPLETED:
        return "Done: every record is anonymized or excluded. Send the person the receipt."
    if status == ErasureRequestStatus.REJECTED:
        return f"Rejected ({erasure_request.closing_note}). Tell the person why; nothing more is done."
    if status == ErasureRequestStatus.CANCELLED:
        return "Cancelled: nothing more is done for this request."
    jobs = erasure_request_jobs(erasure_request) if jobs is None else jobs
    overdue = due < timezone.localdate()
    answer_by = (
        f"It is overdue since {due:%Y-%m-%d}: answer the person now with the receipt"
        + ("." if erasure_request.extension_months else ", or extend the deadline with a reason.")
        if overdue
        else f"Answer the person by {due:%Y-%m-%d}."
    )
    if any(job.active for job in jobs):
        return f"The records are being handled by a job; reload this page in a moment. {answer_by}"
    if status == ErasureRequestStatus.OPEN:
        return (
            "Some records are not handled yet: the hourly follow-up handles them (or retry the failed job). "
            + answer_by
        )
    waiting = getattr(erasure_request, "items_waiting", None)
    count = (
        f"{waiting} record{'s wait' if waiting != 1 else ' waits'}"
        if waiting is not None
        else "Some records wait"
    )
    return (
        f"{count} (see why below). The hourly follow-up anonymizes each as soon as it may and then "
        "completes the request by itself; exclude a record with a reason if it must be kept. "
        f"{answer_by} The receipt says what waits and why."
    )
