"""What the Personal Data API reads about one resource: its related records and its audit trail.

- A customer's or an account's records: the orders and code usages that carry
  its id (ids stay when a record is anonymized, so they are found afterwards too).
- An order's related records: the code usages used on it. A code usage's: its
  order, when this back-office holds it.
- The audit trail (core.AuditRecord) of an order or a code usage is its own
  records; of a customer or an account, the records of everything it holds.

Every read is one query (and one count), whatever the number of records.
"""

from django.db.models import Case, CharField, F, OuterRef, Q, Subquery, UUIDField, Value, When

from core.models import AuditRecord, RecordType
from epcc.personal_data_filters import ACCOUNT, CODE_USAGE, CUSTOMER, ORDER, Subject
from orders.models import Order
from promotions.models import CodeUsage


def _owned(subject: Subject) -> tuple[Q, Q]:
    """(orders, usages) conditions: the records a customer or an account holds."""
    field = "customer_id" if subject.resource_type == CUSTOMER else "account_id"
    return Q(**{field: subject.resource_id}), Q(**{field: subject.resource_id})


def related_records(subject: Subject):
    """The records held about `subject` as rows of (resource_type, resource_id), in that order.

    A queryset of `values("resource_type", "resource_id")`: a UNION ALL of the
    orders' and the usages' ids, so it pages and counts in the database.
    """
    if subject.resource_type in (CUSTOMER, ACCOUNT):
        order_condition, usage_condition = _owned(subject)
    elif subject.resource_type == ORDER:
        order_condition, usage_condition = None, Q(order_id=subject.resource_id)
    else:  # CODE_USAGE: its order, if held here
        usage_order = CodeUsage.objects.filter(pk=subject.resource_id, order_id__isnull=False)
        order_condition, usage_condition = Q(pk__in=usage_order.values("order_id")), None
    parts = []
    if order_condition is not None:
        parts.append(_as_entries(Order.objects.filter(order_condition), RecordType.ORDER))
    if usage_condition is not None:
        parts.append(_as_entries(CodeUsage.objects.filter(usage_condition), RecordType.CODE_USAGE))
    first, *rest = parts
    return (first.union(*rest, all=True) if rest else first).order_by("resource_type", "resource_id")


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
        order_condition, usage_condition = _owned(subject)
        orders = Order.objects.filter(order_condition).values("pk")
        usages = CodeUsage.objects.filter(usage_condition).values("pk")
        condition = Q(record_type=RecordType.ORDER, record_id__in=orders) | Q(
            record_type=RecordType.CODE_USAGE, record_id__in=usages
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
