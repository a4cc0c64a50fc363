"""Orders from EPCC documents (`import_ep`): reading one order, and a set-based upsert.

Reading never touches the database and raises InvalidRecord with a message
that names the field, never a personal value. The upsert is a handful of
statements per CHUNK_SIZE orders, whatever the size of the file.

An order already anonymized here stays anonymized: its personal fields,
addresses and custom attributes are left as they are, only the rest
(statuses, money, timestamps, items, ids) follows the document.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.batches import chunked
from core.formats import parse_timestamp
from core.masking import mask_python
from orders.models import (
    BILLING_ADDRESS_FIELDS,
    MONEY_FIELDS,
    ORDER_PERSONAL_FIELDS,
    SHIPPING_ADDRESS_FIELDS,
    AddressKind,
    Order,
    OrderAddress,
    OrderCustomAttribute,
    OrderItem,
    OrderStatus,
    PaymentStatus,
    ShippingStatus,
)

# Message templates; tests assert on them. None of them carries a personal value.
MISSING = "missing {field}"
MALFORMED_ID = "malformed {field} (not a UUID)"
UNKNOWN_VALUE = 'unknown {field} value "{value}"'
NOT_A = "{field} must be {kind}"
TOO_LONG = "{field} is longer than {limit} characters"
MALFORMED_TIMESTAMP = "malformed {field} (not an ISO 8601 timestamp)"
MIXED_CURRENCIES = "meta.display_price mixes currencies ({currencies})"
MALFORMED_CURRENCY = "{field} must be a 3-letter currency code"
DUPLICATE_ITEM = "relationships.items lists item {id} twice"

TEXT_LIMIT = 255


class InvalidRecord(ValueError):
    """One record of a document cannot be loaded.

    `record` names it ("data[3] (id ...)") when the error is found after
    reading, during the upsert; otherwise the caller knows which record it read.
    """

    def __init__(self, message: str, *, record: str | None = None):
        super().__init__(message)
        self.record = record


# --- Reading values -----------------------------------------------------------


def read_object(value, name: str, *, required: bool = False) -> dict | None:
    if value is None:
        if required:
            raise InvalidRecord(MISSING.format(field=name))
        return None
    if not isinstance(value, dict):
        raise InvalidRecord(NOT_A.format(field=name, kind="an object"))
    return value


def read_uuid(value, name: str, *, required: bool = False) -> uuid.UUID | None:
    if value is None or value == "":
        if required:
            raise InvalidRecord(MISSING.format(field=name))
        return None
    if not isinstance(value, str):
        raise InvalidRecord(MALFORMED_ID.format(field=name))
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidRecord(MALFORMED_ID.format(field=name)) from None


def read_text(value, name: str, *, required: bool = False, limit: int = TEXT_LIMIT) -> str | None:
    """A string or None. The value itself never reaches a message: it may be personal."""
    if value is None:
        if required:
            raise InvalidRecord(MISSING.format(field=name))
        return None
    if not isinstance(value, str):
        raise InvalidRecord(NOT_A.format(field=name, kind="a string"))
    if len(value) > limit:
        raise InvalidRecord(TOO_LONG.format(field=name, limit=limit))
    return value


def read_int(value, name: str, *, default: int | None = None, minimum: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if value is None:
        raise InvalidRecord(MISSING.format(field=name))
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord(NOT_A.format(field=name, kind="an integer"))
    if minimum is not None and value < minimum:
        raise InvalidRecord(NOT_A.format(field=name, kind=f"an integer of at least {minimum}"))
    return value


def read_bool(value, name: str, *, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidRecord(NOT_A.format(field=name, kind="true or false"))
    return value


def read_timestamp(value, name: str, *, required: bool = False) -> datetime | None:
    if value is None:
        if required:
            raise InvalidRecord(MISSING.format(field=name))
        return None
    if not isinstance(value, str):
        raise InvalidRecord(MALFORMED_TIMESTAMP.format(field=name))
    try:
        return parse_timestamp(value)
    except ValueError:
        raise InvalidRecord(MALFORMED_TIMESTAMP.format(field=name)) from None


def read_choice(value, name: str, choices) -> str:
    if value is None:
        raise InvalidRecord(MISSING.format(field=name))
    if not isinstance(value, str) or value not in choices:
        # Statuses are not personal; cut the echo short all the same.
        shown = value if isinstance(value, str) else repr(value)
        raise InvalidRecord(UNKNOWN_VALUE.format(field=name, value=shown[:40]))
    return value


def read_currency(value, name: str) -> str:
    if not isinstance(value, str) or not (value.isalpha() and value.isupper() and len(value) == 3):
        raise InvalidRecord(MALFORMED_CURRENCY.format(field=name))
    return value


def related_id(relationships: dict, name: str) -> uuid.UUID | None:
    """`relationships.<name>.data.id`, or None when the relationship is absent or empty."""
    relation = read_object(relationships.get(name), f"relationships.{name}")
    if not relation:
        return None
    data = read_object(relation.get("data"), f"relationships.{name}.data")
    if not data:
        return None
    return read_uuid(data.get("id"), f"relationships.{name}.data.id")


# --- Reading one order ---------------------------------------------------------


@dataclass
class ParsedOrder:
    """One order document as unsaved rows. `items` without details only name their id."""

    order: Order
    addresses: list[OrderAddress] = field(default_factory=list)
    attributes: list[OrderCustomAttribute] = field(default_factory=list)
    items: list[OrderItem] = field(default_factory=list)
    bare_item_ids: set[uuid.UUID] = field(default_factory=set)
    label: str = ""


def included_items(included) -> dict[uuid.UUID, dict]:
    """`included.items` of a document by id; raises InvalidRecord naming the item."""
    included = read_object(included, "included") or {}
    items = included.get("items") or []
    if not isinstance(items, list):
        raise InvalidRecord(NOT_A.format(field="included.items", kind="a list"))
    by_id = {}
    for index, item in enumerate(items):
        name = f"included.items[{index}]"
        item = read_object(item, name, required=True)
        by_id[read_uuid(item.get("id"), f"{name}.id", required=True)] = item
    return by_id


def _item(document: dict, *, item_id: uuid.UUID, order_id: uuid.UUID, position: int) -> OrderItem:
    name = f"item {item_id}"
    unit_price = read_object(document.get("unit_price"), f"{name}: unit_price") or {}
    currency = unit_price.get("currency")
    return OrderItem(
        id=item_id,
        order_id=order_id,
        position=position,
        product_id=read_uuid(document.get("product_id"), f"{name}: product_id"),
        name=read_text(document.get("name"), f"{name}: name") or "",
        sku=read_text(document.get("sku"), f"{name}: sku") or "",
        quantity=read_int(document.get("quantity"), f"{name}: quantity", default=1, minimum=0),
        unit_amount=read_int(unit_price.get("amount"), f"{name}: unit_price.amount", default=0),
        currency=read_currency(currency, f"{name}: unit_price.currency") if currency else "",
    )


def _money(meta: dict) -> dict:
    display_price = read_object(meta.get("display_price"), "meta.display_price") or {}
    values, currencies = {}, set()
    for name in MONEY_FIELDS:
        price = read_object(display_price.get(name), f"meta.display_price.{name}")
        if price is None:
            continue
        values[name] = read_int(price.get("amount"), f"meta.display_price.{name}.amount")
        if price.get("currency") is not None:
            currencies.add(read_currency(price["currency"], f"meta.display_price.{name}.currency"))
    if len(currencies) > 1:
        raise InvalidRecord(MIXED_CURRENCIES.format(currencies=", ".join(sorted(currencies))))
    if currencies:
        values["currency"] = currencies.pop()
    return values


def _address(document, kind: str, fields) -> OrderAddress | None:
    name = f"{kind}_address"
    document = read_object(document, name)
    if document is None:
        return None
    # Keys EPCC does not define for this kind of address are not kept.
    return OrderAddress(kind=kind, **{f: read_text(document.get(f), f"{name}.{f}") for f in fields})


def _attributes(document) -> list[OrderCustomAttribute]:
    document = read_object(document, "custom_attributes") or {}
    attributes = []
    for key, attribute in document.items():
        name = f"custom_attributes.{key}"
        read_text(key, "a custom attribute name")
        attribute = read_object(attribute, name, required=True)
        attributes.append(
            OrderCustomAttribute(
                name=key,
                type=read_text(attribute.get("type"), f"{name}.type", limit=50) or "string",
                value=attribute.get("value"),
            )
        )
    return attributes


def order_from_epcc(document: dict, *, items: dict[uuid.UUID, dict] | None = None) -> ParsedOrder:
    """One EPCC order object (`type: order`) as unsaved rows; `items` is `included.items` by id."""
    items = items or {}
    order_id = read_uuid(document.get("id"), "id", required=True)
    meta = read_object(document.get("meta"), "meta") or {}
    timestamps = read_object(meta.get("timestamps"), "meta.timestamps") or {}
    relationships = read_object(document.get("relationships"), "relationships") or {}
    customer = read_object(document.get("customer"), "customer") or {}
    contact = read_object(document.get("contact"), "contact") or {}
    now = timezone.now()
    order = Order(
        id=order_id,
        status=read_choice(document.get("status"), "status", OrderStatus.values),
        payment=read_choice(document.get("payment"), "payment", PaymentStatus.values),
        shipping=read_choice(document.get("shipping"), "shipping", ShippingStatus.values),
        anonymized=read_bool(document.get("anonymized"), "anonymized"),
        customer_id=related_id(relationships, "customer") or read_uuid(customer.get("id"), "customer.id"),
        account_id=related_id(relationships, "account"),
        customer_name=read_text(customer.get("name"), "customer.name"),
        customer_email=read_text(customer.get("email"), "customer.email"),
        contact_name=read_text(contact.get("name"), "contact.name"),
        contact_email=read_text(contact.get("email"), "contact.email"),
        created_at=read_timestamp(timestamps.get("created_at"), "meta.timestamps.created_at") or now,
        updated_at=read_timestamp(timestamps.get("updated_at"), "meta.timestamps.updated_at") or now,
        **_money(meta),
    )
    parsed = ParsedOrder(order=order, attributes=_attributes(document.get("custom_attributes")))
    for kind, fields in (
        (AddressKind.SHIPPING, SHIPPING_ADDRESS_FIELDS),
        (AddressKind.BILLING, BILLING_ADDRESS_FIELDS),
    ):
        address = _address(document.get(f"{kind}_address"), kind, fields)
        if address is not None:
            address.order_id = order_id
            parsed.addresses.append(address)
    for attribute in parsed.attributes:
        attribute.order_id = order_id

    relation = read_object(relationships.get("items"), "relationships.items") or {}
    references = relation.get("data") or []
    if not isinstance(references, list):
        raise InvalidRecord(NOT_A.format(field="relationships.items.data", kind="a list"))
    seen = set()
    for position, reference in enumerate(references):
        name = f"relationships.items.data[{position}]"
        reference = read_object(reference, name, required=True)
        item_id = read_uuid(reference.get("id"), f"{name}.id", required=True)
        if item_id in seen:
            raise InvalidRecord(DUPLICATE_ITEM.format(id=item_id))
        seen.add(item_id)
        if item_id in items:
            parsed.items.append(_item(items[item_id], item_id=item_id, order_id=order_id, position=position))
        else:
            parsed.items.append(OrderItem(id=item_id, order_id=order_id, position=position))
            parsed.bare_item_ids.add(item_id)
    return parsed


# --- Writing -----------------------------------------------------------------


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    # Records anonymized here before the import, whose personal fields it left masked.
    kept_anonymized: int = 0


_ORDER_FIELDS = [f.name for f in Order._meta.concrete_fields if not f.primary_key]
_ORDER_FIELDS_KEPT_WHEN_ANONYMIZED = {*ORDER_PERSONAL_FIELDS, "anonymized"}
_ITEM_FIELDS = [f.name for f in OrderItem._meta.concrete_fields if not f.primary_key]


def _locked(model, ids, *fields) -> dict:
    """pk -> (fields...) of the rows that exist, locked in primary-key order."""
    rows = {}
    for chunk in chunked(sorted(ids)):
        query = model.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        rows.update((row[0], row[1:]) for row in query.values_list("pk", *fields))
    return rows


def orders_upsert(*, orders: list[ParsedOrder]) -> UpsertResult:
    """Create or update these orders (unique ids) with their addresses, attributes and items.

    An order anonymized here keeps its masked personal fields, addresses,
    custom attributes and `anonymized: true`; its `updated_at` never moves back.
    """
    result = UpsertResult()
    if not orders:
        return result
    with transaction.atomic():
        existing = _locked(Order, [p.order.id for p in orders], "anonymized", "updated_at")
        full, kept = [], []
        for parsed in orders:
            local = existing.get(parsed.order.id)
            (kept if local and local[0] else full).append(parsed)
        result.created = len(orders) - len(existing)
        result.updated = len(existing)
        result.kept_anonymized = len(kept)

        Order.objects.bulk_create(
            [p.order for p in full], update_conflicts=True, unique_fields=["id"], update_fields=_ORDER_FIELDS
        )
        for parsed in kept:
            order = parsed.order
            order.anonymized = True
            order.updated_at = max(order.updated_at, existing[order.id][1])
            # Not written (the columns are left out below); masked all the same, in case.
            for name in ORDER_PERSONAL_FIELDS:
                setattr(order, name, mask_python(getattr(order, name)))
        Order.objects.bulk_create(
            [p.order for p in kept],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[f for f in _ORDER_FIELDS if f not in _ORDER_FIELDS_KEPT_WHEN_ANONYMIZED],
        )

        # The document is the truth for addresses and attributes of orders not anonymized here.
        replaced = [p.order.id for p in full if p.order.id in existing]
        for chunk in chunked(replaced):
            OrderAddress.objects.filter(order_id__in=chunk).delete()
            OrderCustomAttribute.objects.filter(order_id__in=chunk).delete()
        OrderAddress.objects.bulk_create([a for p in full for a in p.addresses])
        OrderCustomAttribute.objects.bulk_create([a for p in full for a in p.attributes])

        _items_upsert(orders, existing_order_ids=list(existing))
    return result


def _items_upsert(orders: list[ParsedOrder], *, existing_order_ids: list) -> None:
    wanted = {item.id for p in orders for item in p.items}
    stale = []
    for chunk in chunked(sorted(existing_order_ids)):
        stale += list(OrderItem.objects.filter(order_id__in=chunk).values_list("pk", flat=True))
    for chunk in chunked(sorted(set(stale) - wanted)):
        OrderItem.objects.filter(pk__in=chunk).delete()
    detailed = [item for p in orders for item in p.items if item.id not in p.bare_item_ids]
    bare = [item for p in orders for item in p.items if item.id in p.bare_item_ids]
    OrderItem.objects.bulk_create(
        detailed, update_conflicts=True, unique_fields=["id"], update_fields=_ITEM_FIELDS
    )
    # An item the document only names keeps the details it already has here.
    OrderItem.objects.bulk_create(
        bare, update_conflicts=True, unique_fields=["id"], update_fields=["order", "position"]
    )
