"""The only code that anonymizes orders or changes their legal holds.

Every interface (API, admin, privacy pages, commands) calls these functions.
A batch is all-or-nothing and costs a fixed handful of SQL statements per
CHUNK_SIZE ids, however many ids it has; rows are locked in primary-key order.
"""

import uuid
from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

import core.lookups  # noqa: F401  (registers __in_array: one array parameter, not 1000)
from core.audit import Actor, audit_records_create, audit_records_insert_select
from core.batches import Outcome, Review, batch_chunk_size, chunked, unique_uuids
from core.errors import (
    NOT_FOUND_TITLE,
    ORDER_NOT_ELIGIBLE_DETAIL,
    ORDER_NOT_FOUND_DETAIL,
    ORDER_ON_HOLD_DETAIL,
    ORDERS_TITLE,
    BatchRefused,
    Problem,
)
from core.masking import has_value_sql, mask, masked, value_flags
from core.models import AuditAction, ErasureRequest, Interface, RecordType
from core.retry import retry_on_conflict
from orders.models import (
    ADDRESS_PERSONAL_FIELDS,
    BILLING_ADDRESS_FIELDS,
    ORDER_PERSONAL_FIELDS,
    AddressKind,
    LegalHold,
    Order,
    OrderAddress,
    OrderCustomAttribute,
    statuses_allow_anonymization,
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
    )


def order_problem_not_eligible(order_id, *, status, payment, shipping) -> Problem:
    return Problem(
        code="not_eligible",
        status=422,
        title=ORDERS_TITLE,
        detail=ORDER_NOT_ELIGIBLE_DETAIL.format(status=status, payment=payment, shipping=shipping),
        meta={"order_id": str(order_id)},
    )


def order_problem_on_hold(order_id, hold: LegalHold) -> Problem:
    return Problem(
        code="legal_hold",
        status=422,
        title=ORDERS_TITLE,
        detail=ORDER_ON_HOLD_DETAIL.format(until=hold.until, reason=hold.reason),
        meta={"order_id": str(order_id), "legal_hold_id": str(hold.pk), "legal_hold_until": hold.until},
    )


def _attributes_with_value(order_ids):
    """Custom attributes whose value the mask will replace (not NULL, null or "")."""
    return (
        OrderCustomAttribute.objects.filter(order_id__in_array=order_ids, value__isnull=False)
        .exclude(value=None)
        .exclude(value="")
    )


def _active_holds(order_ids, today: date) -> dict[uuid.UUID, LegalHold]:
    """The hold that lasts longest, per held order."""
    holds: dict[uuid.UUID, LegalHold] = {}
    for hold in (
        LegalHold.objects.active(today)
        .filter(order_id__in_array=order_ids)
        .only("id", "order_id", "reason", "ends_on")
    ):
        current = holds.get(hold.order_id)
        if (
            current is None
            or current.ends_on is not None
            and (hold.ends_on is None or hold.ends_on > current.ends_on)
        ):
            holds[hold.order_id] = hold
    return holds


def _review_chunk(review: Review, ids: list[uuid.UUID], *, lock: bool, today: date) -> None:
    rows = Order.objects.filter(pk__in_array=ids).order_by("pk")
    if lock:
        rows = rows.select_for_update()
    flags = value_flags(ORDER_PERSONAL_FIELDS)
    found = {
        row[0]: row
        for row in rows.annotate(**flags).values_list(
            "pk", "status", "payment", "shipping", "anonymized", *flags
        )
    }
    holds = _active_holds(ids, today)

    to_mask = []
    for pk in ids:
        row = found.get(pk)
        if row is None:
            review.problems[pk] = order_problem_not_found(pk)
            continue
        _, status, payment, shipping, anonymized, *has_value = row
        if anonymized:
            review.already_anonymized.append(pk)
        elif not statuses_allow_anonymization(status=status, payment=payment, shipping=shipping):
            review.problems[pk] = order_problem_not_eligible(
                pk, status=status, payment=payment, shipping=shipping
            )
        elif pk in holds:
            review.problems[pk] = order_problem_on_hold(pk, holds[pk])
        else:
            review.eligible[pk] = _order_field_names(has_value)
            to_mask.append(pk)
    if to_mask:
        _add_related_fields(review.eligible, to_mask)


def _order_field_names(has_value) -> list[str]:
    pairs = zip(ORDER_PERSONAL_FIELDS, has_value, strict=True)
    return [ORDER_FIELD_NAMES[name] for name, present in pairs if present]


def _add_related_fields(fields: dict[uuid.UUID, list[str]], order_ids: list[uuid.UUID]) -> None:
    """Append the address and custom attribute fields holding a value to each order's names."""
    address_flags = value_flags(ADDRESS_PERSONAL_FIELDS)
    for order_id, kind, *has_value in (
        OrderAddress.objects.filter(order_id__in_array=order_ids)
        .annotate(**address_flags)
        .values_list("order_id", "kind", *address_flags)
    ):
        names = BILLING_ADDRESS_FIELDS if kind == AddressKind.BILLING else ADDRESS_PERSONAL_FIELDS
        fields[order_id] += [
            f"{kind}_address.{name}"
            for name, present in zip(ADDRESS_PERSONAL_FIELDS, has_value, strict=True)
            if present and name in names
        ]
    for order_id, name in _attributes_with_value(order_ids).values_list("order_id", "name"):
        fields[order_id].append(f"custom_attributes.{name}.value")


def _fields_with_value(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Order id -> the EPCC names of its fields holding a value (what the mask changes)."""
    fields: dict[uuid.UUID, list[str]] = {pk: [] for pk in order_ids}
    flags = value_flags(ORDER_PERSONAL_FIELDS)
    for pk, *has_value in (
        Order.objects.filter(pk__in_array=order_ids).annotate(**flags).values_list("pk", *flags)
    ):
        fields[pk] = _order_field_names(has_value)
    _add_related_fields(fields, order_ids)
    return fields


def _fields_with_value_sql() -> str:
    """`_fields_with_value` as one PostgreSQL SELECT of (order id, sorted JSON array of names).

    Built from the same registries and the same "has a value" rule; a test
    holds the two together. Takes the ids as one uuid[] parameter.
    """
    address_kind_billing = AddressKind.BILLING.value
    order_names = [
        f"CASE WHEN {has_value_sql('o.' + name)} THEN '{ORDER_FIELD_NAMES[name]}' END"
        for name in ORDER_PERSONAL_FIELDS
    ]
    address_names = [
        f"CASE WHEN {has_value_sql('a.' + name)}"
        + ("" if name in BILLING_ADDRESS_FIELDS else f" AND a.kind <> '{address_kind_billing}'")
        + f" THEN a.kind || '_address.{name}' END"
        for name in ADDRESS_PERSONAL_FIELDS
    ]
    attribute = OrderCustomAttribute._meta.db_table
    address = OrderAddress._meta.db_table
    order = Order._meta.db_table
    return f"""
        SELECT o.id, (
          SELECT coalesce(jsonb_agg(n ORDER BY n COLLATE "C"), '[]'::jsonb)
          FROM unnest(
            ARRAY[{", ".join(order_names)}]
            || ARRAY(SELECT n FROM {address} a, unnest(ARRAY[{", ".join(address_names)}]) AS n
                     WHERE a.order_id = o.id)
            || ARRAY(SELECT 'custom_attributes.' || c.name || '.value' FROM {attribute} c
                     WHERE c.order_id = o.id AND c.value IS NOT NULL
                       AND c.value <> 'null'::jsonb AND c.value <> '""'::jsonb)
          ) AS n WHERE n IS NOT NULL
        )
        FROM {order} o WHERE o.id = ANY(%s::uuid[]) ORDER BY o.id
    """  # noqa: S608 (names from the models and the field registries, not input)


def orders_anonymization_review(*, order_ids: Iterable, lock: bool = False) -> Review:
    """What anonymizing these orders would do, and why each refused one is refused.

    Changes nothing. With `lock`, the caller's transaction holds the orders'
    rows (primary-key order) until it ends. Raises ValueError for a non-UUID id.
    """
    ids = unique_uuids(order_ids)
    review = Review(requested=ids)
    today = timezone.localdate()
    for chunk in chunked(sorted(ids), batch_chunk_size()):
        _review_chunk(review, chunk, lock=lock, today=today)
    return review


def _lock_and_check(ids: list[uuid.UUID], today: date) -> Review | None:
    """Lock these orders (primary-key order) and sort them as the rule does, in two queries per chunk.

    Returns the changed/already-anonymized split, without field names, when
    every order may be anonymized; None when any one is refused or unknown
    (the caller then asks the full review for the reasons).
    """
    check = Review(requested=ids)
    for chunk in chunked(sorted(ids), batch_chunk_size()):
        rows = (
            Order.objects.filter(pk__in_array=chunk)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "status", "payment", "shipping", "anonymized")
        )
        seen = 0
        for pk, status, payment, shipping, anonymized in rows:
            seen += 1
            if anonymized:
                check.already_anonymized.append(pk)
            elif statuses_allow_anonymization(status=status, payment=payment, shipping=shipping):
                check.eligible[pk] = []
            else:
                return None
        if seen < len(chunk):
            return None
    # Holds are read after the locks are held, by a statement of its own: one
    # placed while this waited for a lock is seen (a subquery of the locking
    # statement would read the snapshot taken before the wait).
    for chunk in chunked(list(check.eligible), batch_chunk_size()):
        if LegalHold.objects.active(today).filter(order_id__in_array=chunk).exists():
            return None
    return check


# A deadlock forced on it by another transaction is retried, or becomes a 409 (core.retry).
@retry_on_conflict
def orders_anonymize(
    *,
    order_ids: Iterable,
    actor: Actor,
    via: Interface,
    erasure_request: ErasureRequest | None = None,
) -> Outcome:
    """Mask every personal value of these orders, all of them or none.

    Refuses (BatchRefused, nothing changed) when any id is unknown, any order's
    statuses do not allow it, or any order is under legal hold. Orders already
    anonymized are accepted and left as they are. Leaves one audit record per
    changed order naming the fields changed.

    Statements per chunk of ids: one SELECT locks and checks the orders, three
    UPDATEs mask them, one INSERT writes their audit records (on PostgreSQL the
    database names the fields itself; elsewhere two more SELECTs read which
    fields hold a value). A refused batch costs the full review, for its reasons.
    """
    ids = unique_uuids(order_ids)
    with transaction.atomic():
        check = _lock_and_check(ids, timezone.localdate())
        if check is None:
            check = orders_anonymization_review(order_ids=ids, lock=True)
            if not check.ok:
                raise BatchRefused(check.problems_in_request_order())
        now = timezone.now()
        changed = list(check.eligible)
        value = mask()
        for chunk in chunked(changed, batch_chunk_size()):
            Order.objects.filter(pk__in_array=chunk).update(
                anonymized=True,
                updated_at=now,
                **{name: masked(name) for name in ORDER_PERSONAL_FIELDS},
            )
            OrderAddress.objects.filter(order_id__in_array=chunk).update(
                **{name: masked(name) for name in ADDRESS_PERSONAL_FIELDS}
            )
            _attributes_with_value(chunk).update(value=value)
        batch_id = None
        if changed:
            batch_id = _audit_changed(changed, actor=actor, via=via, at=now, erasure_request=erasure_request)
    return Outcome(
        requested=ids,
        changed=changed,
        already_anonymized=check.already_anonymized,
        batch_id=batch_id,
    )


def _audit_changed(changed: list[uuid.UUID], *, actor, via, at, erasure_request) -> uuid.UUID:
    """One audit record per changed order naming its masked fields (read after masking:
    the mask is never empty, so a field holds a value after it exactly when it did before)."""
    if connection.vendor == "postgresql":
        batch_id = uuid.uuid4()
        for chunk in chunked(changed, batch_chunk_size()):
            audit_records_insert_select(
                actor=actor,
                via=via,
                record_type=RecordType.ORDER,
                at=at,
                erasure_request=erasure_request,
                batch_id=batch_id,
                select_sql=_fields_with_value_sql(),
                params=[[str(pk) for pk in chunk]],
            )
        return batch_id
    fields: dict[uuid.UUID, list[str]] = {}
    for chunk in chunked(changed, batch_chunk_size()):
        fields |= _fields_with_value(chunk)
    return audit_records_create(
        actor=actor,
        via=via,
        record_type=RecordType.ORDER,
        changed_fields=fields,
        at=at,
        erasure_request=erasure_request,
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
        )
    return hold


def legal_hold_release(*, hold_id, actor: Actor, via: Interface) -> LegalHold:
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
            )
    return hold
