"""What the Personal Data API reads about one resource: its related records and its audit trail.

- Related records: the personal data set of the resource, as erasure.subjects
  defines it (the one definition "Find a person" and an erasure request also
  use): a customer's or an account's orders and code usages; an order's code
  usages and its customer's other orders and usages; the resource itself left
  out. An erasure request for the resource covers these records (and it).
- The audit trail (core.AuditRecord) of an order or a code usage is its own
  records; of a customer or an account, the records of everything it holds.
  Ids stay when a record is anonymized, so both are found afterwards too.

Every read is one query (and one count), whatever the number of records.
"""

from django.db.models import Case, CharField, F, OuterRef, Q, Subquery, UUIDField, Value, When, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Concat, RowNumber

from core.models import AuditRecord, Job, RecordType
from epcc.documents.personal_data import NAMED_WAITING, WaitingRecord
from epcc.personal_data_filters import CODE_USAGE, ORDER, Subject
from erasure.models import ErasureRequestItem, ItemState
from erasure.selectors import erasure_requests
from erasure.services import ERASURE_REQUEST_JOB
from erasure.subjects import subject_of, subject_orders, subject_usages
from orders.models import Order
from promotions.models import CodeUsage


def _records_of(subject: Subject):
    """(orders, usages) querysets of the subject's personal data set, itself included."""
    held = subject_of(subject.resource_type, str(subject.resource_id))
    return subject_orders(held), subject_usages(held)


def related_records(subject: Subject):
    """The records held about `subject` as rows {resource_type, resource_id}, by type then id.

    A UNION ALL of the orders' and the usages' ids, so it pages and counts in
    the database.
    """
    orders, usages = _records_of(subject)
    if subject.resource_type == ORDER:
        orders = orders.exclude(pk=subject.resource_id)
    elif subject.resource_type == CODE_USAGE:
        usages = usages.exclude(pk=subject.resource_id)
    return (
        _as_entries(orders, RecordType.ORDER)
        .union(_as_entries(usages, RecordType.CODE_USAGE), all=True)
        .order_by("resource_type", "resource_id")
    )


def _as_entries(queryset, resource_type: str):
    return (
        queryset.order_by()
        .annotate(resource_type=Value(resource_type, output_field=CharField()))
        .values("resource_type", resource_id=F("pk"))
    )


def audit_trail(subject: Subject):
    """The audit records of `subject`, oldest first (ties on id), with their actors' keys."""
    if subject.resource_type == ORDER:
        condition = Q(record_type=RecordType.ORDER, record_id=subject.resource_id)
    elif subject.resource_type == CODE_USAGE:
        condition = Q(record_type=RecordType.CODE_USAGE, record_id=subject.resource_id)
    else:
        orders, usages = _records_of(subject)
        condition = Q(record_type=RecordType.ORDER, record_id__in=orders.values("pk")) | Q(
            record_type=RecordType.CODE_USAGE, record_id__in=usages.values("pk")
        )
    return log_entries().filter(condition).order_by("at", "id")


def log_entries():
    """Audit records as the log entries read them: with their actors' keys, and each code
    usage's promotion (where the API serves the usage), in the same query."""
    usage_promotion = CodeUsage.objects.filter(pk=OuterRef("record_id")).values("promotion_id")[:1]
    return AuditRecord.objects.select_related("actor_key").annotate(
        promotion_id=Case(
            When(record_type=RecordType.CODE_USAGE, then=Subquery(usage_promotion)),
            output_field=UUIDField(),
        )
    )


# --- Erasure requests ----------------------------------------------------------------------------

ITEM_COUNTS = ("total", "anonymized", "waiting", "pending", "excluded")


def erasure_requests_read():
    """Requests with their item counts (erasure.selectors) and their last job's status, newest first."""
    last_job = (
        Job.objects.annotate(erasure_request=KT("params__erasure_request"))
        .filter(kind=ERASURE_REQUEST_JOB, erasure_request=Cast(OuterRef("pk"), CharField()))
        .order_by("-created_at")
        .values("status")[:1]
    )
    return erasure_requests().annotate(last_job_status=Subquery(last_job))


def erasure_requests_about(subject: Subject):
    """The requests made for exactly this resource (its type and id), newest first."""
    return erasure_requests_read().filter(
        resource_type=subject.resource_type, resource_id=str(subject.resource_id)
    )


def item_counts(erasure_request) -> dict[str, int]:
    """A request's items by state, from erasure_requests_read's annotations."""
    return {name: getattr(erasure_request, f"items_{name}") for name in ITEM_COUNTS}


def waiting_records(request_ids, *, per_request: int = NAMED_WAITING) -> dict:
    """request id -> its first `per_request` waiting items (orders first, by id): one query."""
    # EPCC's wording of an order's three statuses, as its 422 names them.
    order_statuses = (
        Order.objects.filter(pk=OuterRef("record_id"))
        .annotate(
            statuses=Concat(
                Value("order:"), "status", Value(", payment:"), "payment", Value(", shipping:"), "shipping"
            )
        )
        .values("statuses")[:1]
    )
    rows = (
        ErasureRequestItem.objects.filter(request_id__in=list(request_ids), state=ItemState.WAITING)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("request_id")],
                order_by=[F("record_type").desc(), F("record_id").asc()],
            )
        )
        .filter(position__lte=per_request)
        .annotate(statuses=Subquery(order_statuses))
        .order_by("request_id", "position")
        .values_list("request_id", "record_type", "record_id", "wait_reason", "waiting_until", "statuses")
    )
    found: dict = {}
    for request_id, *item in rows:
        found.setdefault(request_id, []).append(WaitingRecord(*item))
    return found
