"""What the privacy pages read. Reads only: every change goes through a service.

Each selector costs a fixed number of queries, whatever the number of rows.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DateField, F, Max, Min, Q, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone

from core.batches import Review
from core.errors import Problem
from core.formats import format_json_value, format_money
from core.models import AuditAction, AuditRecord, ErasureRequest, Interface, Job, JobStatus, RecordType
from epcc.documents.orders import orders_documents
from epcc.documents.usages import usages_documents
from erasure.services import WAITING_STATUSES_REASON
from erasure.subjects import Subject, subject_of_query, subject_orders, subject_usages
from orders.models import (
    ADDRESS_PERSONAL_FIELDS,
    ORDER_PERSONAL_FIELDS,
    AnonymizationBlock,
    LegalHold,
    Order,
    under_hold,
)
from orders.services import orders_anonymization_review
from privacy.models import BacklogSnapshot
from privacy.personal_data import PERSONAL
from promotions.models import USAGE_PERSONAL_FIELDS, CodeUsage
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
    holds_shown: int = 20


DASHBOARD_HOLDS_SHOWN = 20


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
    holds = list(legal_holds_in_force()[:DASHBOARD_HOLDS_SHOWN])
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


def legal_holds_in_force():
    """Every legal hold in force, ending soonest first (no end last), newest placed first."""
    return (
        LegalHold.objects.active()
        .select_related("created_by")
        .order_by(F("ends_on").asc(nulls_last=True), "-created_at", "id")
    )


# Recent activity is grouped among this many newest audit records: a bounded read
# however large the trail, so one batch of a million records counts as "500+".
RECENT_ACTIVITY_WINDOW = 500
RECENT_ACTIVITY_GROUPS = 10


@dataclass
class ActivityGroup:
    """The audit records of one erasure request, or of one batch outside any request."""

    at: datetime  # the newest record's time
    action: str
    actor: str
    interface: str
    erasure_request: ErasureRequest | None
    batch_id: uuid.UUID | None
    counts: dict[str, int]  # record type -> records (within the window)
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # the group reaches past the window: its counts are a lower bound

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def action_label(self) -> str:
        return AuditAction(self.action).label

    @property
    def interface_label(self) -> str:
        return Interface(self.interface).label


def recent_activity(
    window: int = RECENT_ACTIVITY_WINDOW, groups: int = RECENT_ACTIVITY_GROUPS
) -> list[ActivityGroup]:
    """The newest activity, one row per erasure request (or per batch outside a request).

    Two queries: the window's records grouped in SQL, then the requests named.
    """
    newest = AuditRecord.objects.order_by("-at", "-id").values("pk")[:window]
    rows = list(
        AuditRecord.objects.filter(pk__in=Subquery(newest))
        .values("erasure_request", "batch_id", "action", "actor", "interface", "record_type", "note")
        .annotate(newest=Max("at"), oldest=Min("at"), count=Count("pk"))
        .order_by()
    )
    edge = min((row["oldest"] for row in rows), default=None)
    full = sum(row["count"] for row in rows) >= window
    found: dict = {}
    for row in sorted(rows, key=lambda row: row["newest"], reverse=True):
        key = row["erasure_request"] or row["batch_id"]
        group = found.get(key)
        if group is None:
            group = found[key] = ActivityGroup(
                at=row["newest"],
                action=row["action"],
                actor=row["actor"],
                interface=row["interface"],
                erasure_request=row["erasure_request"],
                batch_id=None if row["erasure_request"] else row["batch_id"],
                counts={},
            )
        group.counts[row["record_type"]] = group.counts.get(row["record_type"], 0) + row["count"]
        if row["note"] and row["note"] not in group.notes:
            group.notes.append(row["note"])
        group.partial = group.partial or (full and row["oldest"] == edge)
    chosen = list(found.values())[:groups]
    requests = ErasureRequest.objects.in_bulk([g.erasure_request for g in chosen if g.erasure_request])
    for group in chosen:
        group.erasure_request = requests.get(group.erasure_request)
        # Orders first, as the receipt lists them.
        group.counts = dict(sorted(group.counts.items(), key=lambda pair: pair[0] != RecordType.ORDER))
    return chosen


CHART_WEEKS = 12


@dataclass
class WeekPoint:
    start: date  # the week's Monday
    anonymized: int  # orders and usages anonymized that week (audit records)
    backlog: int | None  # orders waiting at the week's end (its last snapshot); None: not recorded
    live: bool = False  # the backlog is the live figure, not a snapshot


@dataclass
class ActivityChart:
    weeks: list[WeekPoint]
    first_snapshot: date | None


def activity_chart(
    weeks: int = CHART_WEEKS, today: date | None = None, *, live_backlog: int | None = None
) -> ActivityChart:
    """Anonymizations per week and the backlog at each week's end, for the last `weeks` weeks.

    Anonymizations are counted from the audit trail (a range of its `at` index);
    the backlog is each week's last daily snapshot (privacy.backlog), the current
    week's being today's live figure when none is recorded yet.
    """
    today = today or timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    zone = timezone.get_current_timezone()
    anonymized = dict(
        AuditRecord.objects.filter(
            action=AuditAction.ANONYMIZE, at__gte=datetime.combine(first_monday, time.min, tzinfo=zone)
        )
        .annotate(week=TruncWeek("at", output_field=DateField()))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("week", "count")
    )
    snapshots = list(
        BacklogSnapshot.objects.filter(day__gte=first_monday)
        .order_by("day")
        .values_list("day", "waiting_orders")
    )
    backlog = {}
    for day, waiting in snapshots:  # ascending: each week keeps its last day's figure
        backlog[day - timedelta(days=day.weekday())] = waiting
    points = [
        WeekPoint(
            start=first_monday + timedelta(weeks=n),
            anonymized=anonymized.get(first_monday + timedelta(weeks=n), 0),
            backlog=backlog.get(first_monday + timedelta(weeks=n)),
        )
        for n in range(weeks)
    ]
    if live_backlog is not None:
        points[-1].backlog, points[-1].live = live_backlog, True
    first = BacklogSnapshot.objects.order_by("day").values_list("day", flat=True).first()
    return ActivityChart(weeks=points, first_snapshot=first)


@dataclass
class ReportField:
    label: str
    value: str
    personal: bool


@dataclass
class ReportRecord:
    """One record of a subject access report: its fields as people read them."""

    kind: str  # "Order" or "Code usage"
    id: uuid.UUID
    anonymized: bool
    fields: list[ReportField]
    sections: list[tuple[str, list[ReportField]]] = field(default_factory=list)  # addresses, attributes
    items: list = field(default_factory=list)  # an order's items, as (name, sku, quantity, unit price)


@dataclass
class PersonReport:
    query: str
    orders: list[ReportRecord]
    usages: list[ReportRecord]


def _report_fields(record, names, personal: frozenset, labels: dict | None = None) -> list[ReportField]:
    labels = labels or {}
    fields = []
    for name in names:
        value = getattr(record, name)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
        fields.append(
            ReportField(
                label=labels.get(name, name.replace("_", " ")).capitalize(),
                value=str(value),
                personal=name in personal,
            )
        )
    return fields


def person_report(query: str) -> PersonReport:
    """Everything held about the person, record by record, as a readable report (the JSON
    export's companion): which fields are personal is read from privacy.personal_data.

    Five queries: orders, their addresses, custom attributes and items, then usages.
    """
    query = (query or "").strip()
    subject = subject_of_query(query) if search_kind(query) else None
    if subject is None:
        return PersonReport(query=query, orders=[], usages=[])
    orders = (
        subject_orders(subject)
        .order_by("-created_at", "id")
        .prefetch_related("addresses", "custom_attributes", "items")
    )
    usages = subject_usages(subject).select_related("promotion").order_by("-used_on", "id")
    order_personal = PERSONAL["orders.Order"]
    address_personal = PERSONAL["orders.OrderAddress"]
    report = PersonReport(query=query, orders=[], usages=[])
    for order in orders:
        fields = _report_fields(
            order,
            (
                "created_at",
                "status",
                "payment",
                "shipping",
                "customer_id",
                "account_id",
                *ORDER_PERSONAL_FIELDS,
            ),
            order_personal,
        )
        fields.append(
            ReportField("Total (with tax)", format_money(order.with_tax, order.currency), personal=False)
        )
        sections = [
            (
                f"{address.get_kind_display()} address",
                _report_fields(address, ADDRESS_PERSONAL_FIELDS, address_personal),
            )
            for address in order.addresses.all()
        ]
        attributes = [
            ReportField(
                attribute.name.replace("_", " ").capitalize(), format_json_value(attribute.value), True
            )
            for attribute in order.custom_attributes.all()
            if format_json_value(attribute.value)
        ]
        if attributes:
            sections.append(("Custom attributes", attributes))
        report.orders.append(
            ReportRecord(
                kind="Order",
                id=order.pk,
                anonymized=order.anonymized,
                fields=fields,
                sections=[(title, rows) for title, rows in sections if rows],
                items=[
                    (
                        item.name,
                        item.sku,
                        item.quantity,
                        format_money(item.unit_amount, item.currency or order.currency),
                    )
                    for item in order.items.all()
                ],
            )
        )
    usage_personal = PERSONAL["promotions.CodeUsage"]
    for usage in usages:
        fields = [ReportField("Promotion", usage.promotion.name, personal=False)]
        fields += _report_fields(
            usage,
            (
                "code",
                "used_on",
                "times_used",
                "order_id",
                "customer_id",
                "account_id",
                *USAGE_PERSONAL_FIELDS,
            ),
            usage_personal,
        )
        report.usages.append(
            ReportRecord(kind="Code usage", id=usage.pk, anonymized=usage.anonymized, fields=fields)
        )
    return report
