"""The only code that anonymizes orders or changes their legal holds.

Every interface (API, admin, privacy pages, commands) calls these functions.
A batch is all-or-nothing and costs a fixed handful of SQL statements per
ARRAY_CHUNK_SIZE ids, however many ids it has; rows are locked in primary-key order.
"""

import functools
import uuid
from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from core.audit import Actor, ChangedGroups, audit_records_create
from core.batches import (
    Outcome,
    Review,
    batch_chunk_size,
    chunked,
    in_key_order,
    unique_uuids,
)
from core.errors import (
    NOT_FOUND_TITLE,
    ORDER_NOT_ELIGIBLE_DETAIL,
    ORDER_NOT_ELIGIBLE_PLAIN,
    ORDER_NOT_FOUND_DETAIL,
    ORDER_NOT_FOUND_PLAIN,
    ORDER_ON_HOLD_DETAIL,
    ORDER_ON_HOLD_PLAIN,
    ORDERS_TITLE,
    BatchRefused,
    Problem,
    order_state_words,
)
from core.lookups import Ids  # registers __in_array: one array parameter, not 1000
from core.masking import mask, value_flags
from core.models import AuditAction, ErasureRequest, Interface, RecordType
from core.retry import retry_on_conflict
from orders.masking_sql import (
    ATTRIBUTE_NAMES,
    BILLING_FLAGS,
    DOCUMENTS,
    ORDER_FLAGS,
    ORDER_IDS,
    SHIPPING_FLAGS,
    OrderDocuments,
    mask_orders,
)
from orders.models import (
    ADDRESS_PERSONAL_FIELDS,
    BILLING_ADDRESS_FIELDS,
    ORDER_PERSONAL_FIELDS,
    AddressKind,
    AnonymizationBlock,
    LegalHold,
    Order,
    OrderAddress,
    OrderCustomAttribute,
)

# Model field -> the name EPCC's document gives it; audit records use these.
ORDER_FIELD_NAMES = {
    "customer_name": "customer.name",
    "customer_email": "customer.email",
    "contact_name": "contact.name",
    "contact_email": "contact.email",
}


def order_problem_not_found(order_id) -> Problem:
    return Problem(
        code="not_found",
        status=404,
        title=NOT_FOUND_TITLE,
        detail=ORDER_NOT_FOUND_DETAIL.format(id=order_id),
        meta={"order_id": str(order_id)},
        plain=ORDER_NOT_FOUND_PLAIN,
    )


def order_problem_not_eligible(order_id, *, status, payment, shipping) -> Problem:
    return Problem(
        code="not_eligible",
        status=422,
        title=ORDERS_TITLE,
        detail=ORDER_NOT_ELIGIBLE_DETAIL.format(status=status, payment=payment, shipping=shipping),
        meta={"order_id": str(order_id)},
        plain=ORDER_NOT_ELIGIBLE_PLAIN.format(
            state=order_state_words(status=status, payment=payment, shipping=shipping)
        ),
    )


def order_problem_on_hold(order_id, hold: LegalHold) -> Problem:
    return Problem(
        code="legal_hold",
        status=422,
        title=ORDERS_TITLE,
        detail=ORDER_ON_HOLD_DETAIL.format(until=hold.until, reason=hold.reason),
        meta={"order_id": str(order_id), "legal_hold_id": str(hold.pk), "legal_hold_until": hold.until},
        plain=ORDER_ON_HOLD_PLAIN.format(until=hold.until, reason=hold.reason),
    )


def _attributes_with_value(order_ids):
    """Custom attributes whose value the mask will replace (not NULL, null or "")."""
    return (
        OrderCustomAttribute.objects.filter(
            order_id__in_array=Ids(order_ids),
            value__isnull=False,
        )
        .exclude(value=None)
        .exclude(value="")
    )


def _review_chunk(
    review: Review, ids: list[uuid.UUID], *, lock: bool, today: date, with_fields: bool
) -> None:
    rows = Order.objects.filter(pk__in_array=Ids(ids))
    if lock:
        # Its own statement, before the one that reads the rule: that one's
        # snapshot then sees a hold placed while this waited for the lock.
        list(rows.order_by("pk").select_for_update().values_list("pk", flat=True))
    flags = value_flags(ORDER_PERSONAL_FIELDS) if with_fields else {}
    found = {
        row[0]: row
        for row in rows.order_by()
        .with_anonymization_block(today, hold=True)
        .annotate(**flags)
        .values_list("pk", "anonymization_block", "legal_hold", "status", "payment", "shipping", *flags)
    }

    to_mask = []
    for pk in ids:
        row = found.get(pk)
        if row is None:
            review.problems[pk] = order_problem_not_found(pk)
            continue
        _, block, hold, status, payment, shipping, *has_value = row
        if block == AnonymizationBlock.ANONYMIZED:
            review.already_anonymized.append(pk)
        elif block == AnonymizationBlock.STATUSES:
            review.problems[pk] = order_problem_not_eligible(
                pk, status=status, payment=payment, shipping=shipping
            )
        elif block == AnonymizationBlock.LEGAL_HOLD:
            review.problems[pk] = order_problem_on_hold(pk, _hold_of(hold))
        else:
            review.eligible[pk] = list(_order_field_names(tuple(has_value))) if with_fields else []
            to_mask.append(pk)
    if to_mask and with_fields:
        _add_related_fields(review.eligible, to_mask)


def _hold_of(hold: dict) -> LegalHold:
    """The `legal_hold` annotation ({"id", "reason", "ends_on"}) as an unsaved LegalHold."""
    ends_on = hold["ends_on"]
    return LegalHold(
        id=uuid.UUID(hold["id"]),
        reason=hold["reason"],
        ends_on=date.fromisoformat(ends_on) if ends_on else None,
    )


@functools.cache
def _order_field_names(has_value: tuple) -> tuple[str, ...]:
    """EPCC names of the order's fields holding a value (cached: few patterns recur)."""
    pairs = zip(ORDER_PERSONAL_FIELDS, has_value, strict=True)
    return tuple(ORDER_FIELD_NAMES[name] for name, present in pairs if present)


@functools.cache
def _address_field_names(kind: str, has_value: tuple) -> tuple[str, ...]:
    names = BILLING_ADDRESS_FIELDS if kind == AddressKind.BILLING else ADDRESS_PERSONAL_FIELDS
    pairs = zip(ADDRESS_PERSONAL_FIELDS, has_value, strict=True)
    return tuple(f"{kind}_address.{name}" for name, present in pairs if present and name in names)


def _attribute_field_name(name: str) -> str:
    return f"custom_attributes.{name}.value"


def _add_related_fields(fields: dict[uuid.UUID, list[str]], order_ids: list[uuid.UUID]) -> None:
    """Append the address and custom attribute fields holding a value to each order's names."""
    address_flags = value_flags(ADDRESS_PERSONAL_FIELDS)
    for order_id, kind, *has_value in (
        OrderAddress.objects.filter(order_id__in_array=Ids(order_ids))
        .annotate(**address_flags)
        .values_list("order_id", "kind", *address_flags)
    ):
        fields[order_id] += _address_field_names(kind, tuple(has_value))
    for order_id, name in _attributes_with_value(order_ids).values_list("order_id", "name"):
        fields[order_id].append(_attribute_field_name(name))


def _mask_chunk_grouped(
    order_ids: list[uuid.UUID], now, returning: OrderDocuments | None, returned: dict
) -> list[tuple[tuple[str, ...], list[str]]]:
    """Mask these orders in one statement (orders.masking_sql), reporting them grouped by the fields masked.

    Returns (EPCC field names, sorted, and the ids, as text, of the orders
    whose fields they are) per distinct list of fields. With `returning`,
    puts each order's document (id as text -> text) in `returned`.
    """
    merged: dict[tuple[str, ...], list[str]] = {}
    for row in mask_orders(order_ids, now=now, mask=mask(), documents=returning):
        names = [
            *_order_field_names(row[ORDER_FLAGS]),
            *_address_field_names(AddressKind.SHIPPING, row[SHIPPING_FLAGS]),
            *_address_field_names(AddressKind.BILLING, row[BILLING_FLAGS]),
            *(_attribute_field_name(name) for name in row[ATTRIBUTE_NAMES] or ()),
        ]
        merged.setdefault(tuple(sorted(names)), []).extend(row[ORDER_IDS])
        if returning is not None:
            returned.update(zip(row[ORDER_IDS], row[DOCUMENTS], strict=True))
    return list(merged.items())


def orders_anonymization_review(
    *, order_ids: Iterable, lock: bool = False, with_fields: bool = True
) -> Review:
    """What anonymizing these orders would do, and why each refused one is refused.

    Changes nothing. With `lock`, the caller's transaction holds the orders'
    rows (primary-key order) until it ends, and the rule
    (Order.objects.with_anonymization_block) is read by a statement of its
    own after the lock, so a hold placed while this waited is seen.
    Without `with_fields`, the eligible orders' field names are left empty
    and no personal column is read (the anonymizing service learns them from
    its UPDATEs). Raises ValueError for a non-UUID id.
    """
    ids = unique_uuids(order_ids)
    review = Review(requested=ids)
    today = timezone.localdate()
    for chunk in chunked(in_key_order(ids), batch_chunk_size()):
        _review_chunk(review, chunk, lock=lock, today=today, with_fields=with_fields)
    return review


# A deadlock forced on it by another transaction is retried, or becomes a 409 (core.retry).
@retry_on_conflict
def orders_anonymize(
    *,
    order_ids: Iterable,
    actor: Actor,
    via: Interface,
    erasure_request: ErasureRequest | None = None,
    returning: OrderDocuments | None = None,
) -> Outcome:
    """Mask every personal value of these orders, all of them or none.

    Refuses (BatchRefused, nothing changed) when any id is unknown, any order's
    statuses do not allow it, or any order is under legal hold. Orders already
    anonymized are accepted and left as they are. Leaves one audit record per
    changed order naming the fields changed.

    Statements per chunk of ids: the review (without field names) locks the
    orders, then reads the rule (Order.objects.with_anonymization_block: why
    each may not be anonymized now, with its hold); one statement masks
    them (orders.masking_sql: the three UPDATEs, grouped by the fields that
    held a value); one INSERT writes the audit records.

    `returning` (orders.masking_sql.OrderDocuments, e.g. the EPCC document of
    epcc.documents.orders) is written by the masking statement itself for
    every order it changes, as it is after the change: `Outcome.returned`
    maps their ids, as text, to it, and nothing reads the orders again.
    """
    with transaction.atomic():
        check = orders_anonymization_review(order_ids=order_ids, lock=True, with_fields=False)
        if not check.ok:
            raise BatchRefused(check.problems_in_request_order())
        now = timezone.now()
        # Every eligible order is locked and not yet anonymized: each is changed.
        changed = list(check.eligible)
        returned: dict[str, str] = {}
        fields = ChangedGroups(
            [
                group
                for chunk in chunked(changed, batch_chunk_size())
                for group in _mask_chunk_grouped(chunk, now, returning, returned)
            ]
        )
        batch_id = None
        if changed:
            batch_id = audit_records_create(
                actor=actor,
                via=via,
                record_type=RecordType.ORDER,
                changed_fields=fields,
                at=now,
                erasure_request=erasure_request,
            )
    return Outcome(
        requested=check.requested,
        changed=changed,
        already_anonymized=check.already_anonymized,
        batch_id=batch_id,
        returned=returned,
    )


def legal_hold_place(
    *, order_id, reason: str, ends_on: date | None, actor: Actor, via: Interface
) -> LegalHold:
    """Put an order under legal hold; every interface then refuses to anonymize it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("A legal hold needs a reason.")
    if ends_on is not None and ends_on < timezone.localdate():
        raise ValueError("A legal hold cannot end in the past.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        hold = LegalHold.objects.create(
            order=order,
            reason=reason,
            ends_on=ends_on,
            created_by=actor.user if getattr(actor.user, "pk", None) else None,
        )
        audit_records_create(
            actor=actor,
            via=via,
            record_type=RecordType.ORDER,
            changed_fields={order.pk: ["legal_hold"]},
            at=hold.created_at,
            action=AuditAction.HOLD_PLACED,
            note=reason,
        )
    return hold


def legal_hold_release(*, hold_id, reason: str, actor: Actor, via: Interface) -> LegalHold:
    """End a hold now; its audit record keeps who released it and why (staff's words)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Releasing a legal hold needs a reason.")
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold_id)
        if hold.released_at is None:
            hold.released_at = timezone.now()
            hold.released_by = actor.user if getattr(actor.user, "pk", None) else None
            hold.save(update_fields=["released_at", "released_by"])
            audit_records_create(
                actor=actor,
                via=via,
                record_type=RecordType.ORDER,
                changed_fields={hold.order_id: ["legal_hold"]},
                at=hold.released_at,
                action=AuditAction.HOLD_RELEASED,
                note=reason,
            )
    return hold
