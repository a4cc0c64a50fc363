"""What the privacy pages read. Reads only: every change goes through a service.

Each selector costs a fixed number of queries, whatever the number of rows.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Count, F, Q
from django.utils import timezone

from core.batches import Review
from core.errors import Problem
from core.models import AuditRecord, Job, JobStatus
from epcc.documents.orders import orders_documents
from epcc.documents.usages import usages_documents
from erasure.services import WAITING_STATUSES_REASON
from erasure.subjects import Subject, subject_of_query, subject_orders, subject_usages
from orders.models import AnonymizationBlock, LegalHold, Order, under_hold
from orders.services import orders_anonymization_review
from promotions.models import CodeUsage
from promotions.services import usages_anonymization_review

# More than this many orders or usages for one search is not one person; the
# page says the list was cut rather than rendering thousands of rows. Two full
# lists of checkboxes must also fit in one POST under Django's
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1000).
PERSON_RECORDS_LIMIT = 400


class SearchKind:
    EMAIL = "email"
    ID = "id"


@dataclass
class RecordRow:
    """One order or usage of a person, with what anonymizing it would do."""

    record: object
    fields: list[str] | None = None  # the fields the mask would change, when eligible
    already_anonymized: bool = False
    problem: Problem | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.record.pk

    @property
    def eligible(self) -> bool:
        return self.fields is not None

    @property
    def waiting_reason(self) -> str:
        """Why an erasure request would leave this order waiting, in the request's own words."""
        if self.problem is None:
            return ""
        if self.problem.code == "not_eligible":
            order = self.record
            return WAITING_STATUSES_REASON.format(
                status=order.status, payment=order.payment, shipping=order.shipping
            )
        return self.problem.detail


@dataclass
class PersonRecords:
    """Everything held about one person, found by one search key."""

    query: str
    kind: str | None = None
    subject: Subject | None = None
    orders: list[RecordRow] = field(default_factory=list)
    usages: list[RecordRow] = field(default_factory=list)
    truncated: bool = False

    @property
    def found(self) -> bool:
        return bool(self.orders or self.usages)

    @property
    def eligible_order_ids(self) -> list[uuid.UUID]:
        return [row.id for row in self.orders if row.eligible]

    @property
    def eligible_usage_ids(self) -> list[uuid.UUID]:
        return [row.id for row in self.usages if row.eligible]

    @property
    def already_anonymized(self) -> list[tuple[str, RecordRow]]:
        """("Order" or "Code usage", row) of the records already anonymized."""
        return [("Order", row) for row in self.orders if row.already_anonymized] + [
            ("Code usage", row) for row in self.usages if row.already_anonymized
        ]

    @property
    def waiting(self) -> list[RecordRow]:
        """Orders an erasure request would leave waiting: not anonymized and refused now."""
        return [row for row in self.orders if row.problem is not None]


def search_kind(query: str) -> str | None:
    """An email when it has an @, an id when it is a UUID, else nothing searchable."""
    if "@" in query:
        return SearchKind.EMAIL
    try:
        uuid.UUID(query)
    except ValueError:
        return None
    return SearchKind.ID


def _rows(records: list, review: Review) -> list[RecordRow]:
    already = set(review.already_anonymized)
    return [
        RecordRow(
            record=record,
            fields=review.eligible.get(record.pk),
            already_anonymized=record.pk in already,
            problem=review.problems.get(record.pk),
        )
        for record in records
    ]


def person_records(query: str) -> PersonRecords:
    """Orders and code usages (across all promotions) of the person `query` names.

    `query` is an email (case-insensitive exact match on the customer's or
    the order contact's email), or a UUID: an order id (and so the customer
    who placed it), a customer id, an account id or a usage id. Which records
    that finds is erasure.subjects, the same rule an erasure request uses.
    Each row says whether it can be anonymized and, if not, why, as the
    anonymizing services would decide it.
    """
    query = (query or "").strip()
    result = PersonRecords(query=query, kind=search_kind(query))
    result.subject = subject_of_query(query) if result.kind else None
    if result.subject is None:
        result.kind = None
        return result
    orders = list(subject_orders(result.subject).order_by("-created_at", "id")[: PERSON_RECORDS_LIMIT + 1])
    usages = list(
        subject_usages(result.subject)
        .select_related("promotion")
        .order_by("-used_on", "id")[: PERSON_RECORDS_LIMIT + 1]
    )
    result.truncated = len(orders) > PERSON_RECORDS_LIMIT or len(usages) > PERSON_RECORDS_LIMIT
    orders, usages = orders[:PERSON_RECORDS_LIMIT], usages[:PERSON_RECORDS_LIMIT]
    if orders:
        result.orders = _rows(orders, orders_anonymization_review(order_ids=[o.pk for o in orders]))
    if usages:
        result.usages = _rows(usages, usages_anonymization_review(usage_ids=[u.pk for u in usages]))
    return result


def person_export(query: str) -> dict:
    """Everything held about the person, in EPCC's document shapes (a subject access request)."""
    subject = subject_of_query(query)
    if subject is None:
        return {"orders": [], "usages": []}
    order_ids = subject_orders(subject).order_by("-created_at", "id").values_list("pk", flat=True)
    usage_ids = subject_usages(subject).order_by("-used_on", "id").values_list("pk", flat=True)
    return {"orders": orders_documents(list(order_ids)), "usages": usages_documents(list(usage_ids))}


@dataclass
class StatusCount:
    status: str
    payment: str
    shipping: str
    count: int


@dataclass
class Dashboard:
    waiting: int  # eligible, not anonymized, not held
    not_yet: list[StatusCount]  # statuses do not allow it yet, by combination
    not_yet_total: int
    held: int  # statuses allow it but a legal hold stops it
    held_not_eligible: int  # held, and their statuses refuse it anyway (counted in not_yet)
    holds: list[LegalHold]
    orders_total: int
    orders_anonymized: int
    usages_total: int
    usages_anonymized: int
    recent: list[AuditRecord]
    holds_shown: int = 20


DASHBOARD_HOLDS_SHOWN = 20
DASHBOARD_RECENT_SHOWN = 15


def dashboard() -> Dashboard:
    """The figures of the dashboard: one aggregate query per block, whatever the number of rows.

    Which orders may be anonymized, and why not, is read from
    Order.objects.with_anonymization_block (and its filter form,
    blocked_by), never restated here.
    """
    # Every order in one scan, counted by its anonymization_block.
    blocks = dict(
        Order.objects.with_anonymization_block()
        .values("anonymization_block")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("anonymization_block", "count")
    )
    # The orders their statuses refuse, by status combination (a few dozen
    # groups), with how many of them are held too.
    refused = list(
        Order.objects.blocked_by(AnonymizationBlock.STATUSES)
        .values("status", "payment", "shipping")
        .annotate(count=Count("pk"), held=Count("pk", filter=under_hold()))
        .order_by()
    )
    not_yet = [StatusCount(g["status"], g["payment"], g["shipping"], count=g["count"]) for g in refused]
    not_yet.sort(key=lambda row: -row.count)
    usages = CodeUsage.objects.aggregate(total=Count("pk"), anonymized=Count("pk", filter=Q(anonymized=True)))
    holds = list(
        LegalHold.objects.active()
        .only("id", "order_id", "reason", "ends_on", "created_at")
        .order_by(F("ends_on").asc(nulls_last=True), "-created_at")[:DASHBOARD_HOLDS_SHOWN]
    )
    recent = list(AuditRecord.objects.order_by("-at", "-id")[:DASHBOARD_RECENT_SHOWN])
    return Dashboard(
        waiting=blocks.get(None, 0),
        not_yet=not_yet,
        not_yet_total=sum(row.count for row in not_yet),
        held=blocks.get(AnonymizationBlock.LEGAL_HOLD, 0),
        held_not_eligible=sum(group["held"] for group in refused),
        holds=holds,
        orders_total=sum(blocks.values()),
        orders_anonymized=blocks.get(AnonymizationBlock.ANONYMIZED, 0),
        usages_total=usages["total"],
        usages_anonymized=usages["anonymized"],
        recent=recent,
        holds_shown=DASHBOARD_HOLDS_SHOWN,
    )


def order_with_holds(order_id) -> tuple[Order, list[LegalHold], Review]:
    """One order, all its holds (newest first) and what anonymizing it would do."""
    order = Order.objects.get(pk=order_id)
    holds = list(order.holds.select_related("created_by", "released_by").order_by("-created_at"))
    return order, holds, orders_anonymization_review(order_ids=[order.pk])


def audit_records(
    *, actor: str = "", interface: str = "", date_from=None, date_to=None, record_id=None, batch_id=None
):
    """The audit trail, newest first, narrowed by whichever filters are given.

    Dates are whole days in the project's time zone, both ends included.
    """
    records = AuditRecord.objects.select_related("erasure_request").order_by("-at", "-id")
    if actor:
        records = records.filter(actor=actor)
    if interface:
        records = records.filter(interface=interface)
    zone = timezone.get_current_timezone()
    if date_from:
        records = records.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=zone))
    if date_to:
        records = records.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone))
    if record_id:
        records = records.filter(record_id=record_id)
    if batch_id:
        records = records.filter(batch_id=batch_id)
    return records


def jobs(*, status: str = ""):
    """Jobs, newest first, with who started them; one status only when given."""
    found = Job.objects.select_related("started_by").order_by("-created_at", "-id")
    if status:
        found = found.filter(status=status)
    return found


@dataclass
class JobCounts:
    queued: int
    running: int
    failed: int


def job_counts() -> JobCounts:
    """How many jobs wait, run and failed: one aggregate query."""
    counts = Job.objects.aggregate(
        **{
            status.value: Count("pk", filter=Q(status=status))
            for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)
        }
    )
    return JobCounts(**counts)
