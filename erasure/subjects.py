"""Who an erasure request is about, without keeping who they are.

A subject is named by a resource type and an identifier (an email, or a
customer, account, order or code usage id). The request keeps only
`subject_key`, a keyed hash (HMAC-SHA256 under the setting
PRIVACY_SUBJECT_KEY) of the normalized identifier, so records imported later
can be matched to it without the email being stored; it keeps the identifier
itself only when it is an id.

`subject_orders` and `subject_usages` are the one definition of the records
held about a subject: "Find a person", an erasure request and the import's
matching all read them.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery, Value
from django.db.models.functions import Upper

from core.models import SubjectResourceType
from orders.models import Order
from promotions.models import CodeUsage

# EPCC's hyphenated spellings, accepted beside ours.
RESOURCE_TYPE_ALIASES = {
    "code-usage": SubjectResourceType.CODE_USAGE,
    "code_usages": SubjectResourceType.CODE_USAGE,
}
ID_TYPES = frozenset(
    {
        SubjectResourceType.CUSTOMER,
        SubjectResourceType.ACCOUNT,
        SubjectResourceType.ORDER,
        SubjectResourceType.CODE_USAGE,
    }
)


class SubjectError(ValueError):
    """An identifier that names no subject: an unknown type, a malformed email or id."""


@dataclass(frozen=True)
class Subject:
    resource_type: str
    identifier: str  # normalized: a lower-cased trimmed email, or a UUID's canonical text

    @property
    def key(self) -> str:
        return subject_key(self.identifier)

    @property
    def resource_id(self) -> str:
        """What a request may keep in clear: an id, never an email."""
        return "" if self.resource_type == SubjectResourceType.EMAIL else self.identifier


def subject_key(normalized_identifier: str) -> str:
    """HMAC-SHA256 (hex) of a normalized identifier under PRIVACY_SUBJECT_KEY."""
    secret = settings.PRIVACY_SUBJECT_KEY.encode()
    return hmac.new(secret, normalized_identifier.encode(), hashlib.sha256).hexdigest()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def subject_of(resource_type: str, resource_id: str) -> Subject:
    """The subject a resource type and identifier name; SubjectError when they name none."""
    raw_type = (resource_type or "").strip().lower()
    kind = RESOURCE_TYPE_ALIASES.get(raw_type, raw_type)
    if kind not in SubjectResourceType.values:
        allowed = ", ".join(SubjectResourceType.values)
        raise SubjectError(f"Unknown resource type {resource_type!r}; use one of {allowed}.")
    if kind == SubjectResourceType.EMAIL:
        email = normalize_email(resource_id)
        if "@" not in email or len(email) > 254 or "\x00" in email:
            raise SubjectError("That is not an email address.")
        return Subject(kind, email)
    try:
        return Subject(kind, str(uuid.UUID(str(resource_id).strip())))
    except (ValueError, AttributeError):
        raise SubjectError(f"A {kind} id is a UUID.") from None


def subject_of_query(query: str) -> Subject | None:
    """The subject a "Find a person" search names: an email, or an id of whatever it is.

    An id is taken, in this order, for an order's, a code usage's, a
    customer's or an account's (a customer id when nothing holds it: it then
    finds nothing). None when the query is neither an email nor a UUID.
    """
    query = (query or "").strip()
    if "@" in query:
        try:
            return subject_of(SubjectResourceType.EMAIL, query)
        except SubjectError:
            return None
    try:
        key = uuid.UUID(query)
    except ValueError:
        return None
    found = _kinds_holding(key)
    for kind in (SubjectResourceType.ORDER, SubjectResourceType.CODE_USAGE, SubjectResourceType.CUSTOMER):
        if kind in found:
            return Subject(kind, str(key))
    if SubjectResourceType.ACCOUNT in found:
        return Subject(SubjectResourceType.ACCOUNT, str(key))
    return Subject(SubjectResourceType.CUSTOMER, str(key))


def _kinds_holding(key: uuid.UUID) -> set[str]:
    """What an id is the id of (order, code usage, customer, account), in one query."""

    def first(queryset, kind):
        return queryset.order_by().annotate(kind=Value(kind)).values_list("kind")[:1]

    checks = [
        first(Order.objects.filter(pk=key), SubjectResourceType.ORDER),
        first(CodeUsage.objects.filter(pk=key), SubjectResourceType.CODE_USAGE),
        first(Order.objects.filter(customer_id=key), SubjectResourceType.CUSTOMER),
        first(CodeUsage.objects.filter(customer_id=key), SubjectResourceType.CUSTOMER),
        first(Order.objects.filter(account_id=key), SubjectResourceType.ACCOUNT),
        first(CodeUsage.objects.filter(account_id=key), SubjectResourceType.ACCOUNT),
    ]
    return {row[0] for row in checks[0].union(*checks[1:], all=True)}


def _filters(subject: Subject) -> tuple[Q, Q]:
    """The conditions on orders and on code usages that find one subject's records."""
    if subject.resource_type == SubjectResourceType.EMAIL:
        # UPPER(customer_email) = UPPER(%s): the exact expression of the
        # order_email_upper_idx / usage_email_upper_idx indexes.
        email = Upper(Value(subject.identifier))
        return Q(email_upper=email) | Q(contact_email_upper=email), Q(email_upper=email)
    key = uuid.UUID(subject.identifier)
    if subject.resource_type == SubjectResourceType.CUSTOMER:
        return Q(customer_id=key), Q(customer_id=key)
    if subject.resource_type == SubjectResourceType.ACCOUNT:
        return Q(account_id=key), Q(account_id=key)
    if subject.resource_type == SubjectResourceType.CODE_USAGE:
        return Q(pk__in=[]), Q(pk=key)
    # An order id stands for the customer who placed it: their other orders and usages too.
    customer_of_order = Subquery(
        Order.objects.filter(pk=key, customer_id__isnull=False).order_by().values("customer_id")[:1]
    )
    return (
        Q(pk=key) | Q(customer_id=customer_of_order),
        Q(order_id=key) | Q(customer_id=customer_of_order),
    )


def subject_orders(subject: Subject) -> QuerySet:
    """The orders held about a subject (unordered)."""
    orders, _ = _filters(subject)
    return Order.objects.alias(
        email_upper=Upper("customer_email"), contact_email_upper=Upper("contact_email")
    ).filter(orders)


def subject_usages(subject: Subject) -> QuerySet:
    """The code usages held about a subject, across every promotion (unordered)."""
    _, usages = _filters(subject)
    return CodeUsage.objects.alias(email_upper=Upper("customer_email")).filter(usages)


def subject_keys_of(*, emails=(), ids=()) -> dict[str, None]:
    """The subject keys that records with these emails and customer / account ids hash to."""
    keys: dict[str, None] = {}
    for email in emails:
        if email and "@" in email:
            keys[subject_key(normalize_email(email))] = None
    for value in ids:
        if value:
            keys[subject_key(str(value))] = None
    return keys
