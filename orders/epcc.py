"""Orders in EPCC's document shape (seed 002/003), for the API, exports and round-trips.

A key whose value EPCC did not send (stored as NULL) is left out, so an
imported document serializes back to itself. One builder (`_document`)
makes every order document, from model instances (`order_to_epcc`) or from
plain rows (`orders_to_epcc`, for batches of up to thousands of orders).
"""

import core.lookups  # noqa: F401  (registers __in_array)
from core.batches import chunked
from core.epcc import format_timestamp, money
from orders.models import (
    BILLING_ADDRESS_FIELDS,
    MONEY_FIELDS,
    SHIPPING_ADDRESS_FIELDS,
    AddressKind,
    Order,
    OrderAddress,
    OrderCustomAttribute,
    OrderItem,
)

ORDER_COLUMNS = (
    "id",
    "status",
    "payment",
    "shipping",
    "anonymized",
    "customer_id",
    "account_id",
    "customer_name",
    "customer_email",
    "contact_name",
    "contact_email",
    "currency",
    *MONEY_FIELDS,
    "created_at",
    "updated_at",
)
ADDRESS_COLUMNS = ("order_id", "kind", *SHIPPING_ADDRESS_FIELDS)


def _present(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _address(address: dict, fields) -> dict:
    return {name: address[name] for name in fields if address.get(name) is not None}


def _document(order: dict, addresses: dict, attributes: list[dict], item_ids: list) -> dict:
    """`order` has ORDER_COLUMNS; `addresses` kind -> row; attributes in id order; items in position order."""
    document = {
        "type": "order",
        "id": str(order["id"]),
        "status": order["status"],
        "payment": order["payment"],
        "shipping": order["shipping"],
        "anonymized": order["anonymized"],
    }
    customer = _present(name=order["customer_name"], email=order["customer_email"])
    if customer:
        document["customer"] = customer
    contact = _present(name=order["contact_name"], email=order["contact_email"])
    if contact:
        document["contact"] = contact
    if AddressKind.SHIPPING in addresses:
        document["shipping_address"] = _address(addresses[AddressKind.SHIPPING], SHIPPING_ADDRESS_FIELDS)
    if AddressKind.BILLING in addresses:
        document["billing_address"] = _address(addresses[AddressKind.BILLING], BILLING_ADDRESS_FIELDS)
    if attributes:
        document["custom_attributes"] = {
            attribute["name"]: {
                "name": attribute["name"],
                "type": attribute["type"],
                "value": attribute["value"],
            }
            for attribute in attributes
        }
    document["links"] = {}
    document["meta"] = {
        "display_price": {name: money(order[name], order["currency"]) for name in MONEY_FIELDS},
        "timestamps": {
            "created_at": format_timestamp(order["created_at"]),
            "updated_at": format_timestamp(order["updated_at"]),
        },
    }
    relationships = {"items": {"data": [{"type": "item", "id": str(item_id)} for item_id in item_ids]}}
    if order["customer_id"]:
        relationships["customer"] = {"data": {"type": "customer", "id": str(order["customer_id"])}}
    if order["account_id"]:
        relationships["account"] = {"data": {"type": "account", "id": str(order["account_id"])}}
    document["relationships"] = relationships
    return document


def order_to_epcc(order: Order) -> dict:
    """Expects `Order.objects.for_epcc()` so that related rows cost no query."""
    return _document(
        {name: getattr(order, name) for name in ORDER_COLUMNS},
        {
            address.kind: {name: getattr(address, name) for name in ADDRESS_COLUMNS}
            for address in order.addresses.all()
        },
        [{"name": a.name, "type": a.type, "value": a.value} for a in order.custom_attributes.all()],
        [item.id for item in order.items.all()],
    )


def orders_to_epcc(order_ids) -> dict:
    """id -> EPCC document of each existing order, in four queries per chunk of ids.

    Reads plain rows, not model instances: answering a batch of 1000 orders
    otherwise costs more than anonymizing them.
    """
    documents = {}
    for chunk in chunked(list(order_ids)):
        orders = list(Order.objects.filter(pk__in_array=chunk).order_by().values(*ORDER_COLUMNS))
        if not orders:
            continue
        found = [order["id"] for order in orders]
        addresses: dict = {}
        for address in (
            OrderAddress.objects.filter(order_id__in_array=found).order_by().values(*ADDRESS_COLUMNS)
        ):
            addresses.setdefault(address["order_id"], {})[address["kind"]] = address
        attributes: dict = {}
        for attribute in (
            OrderCustomAttribute.objects.filter(order_id__in_array=found)
            .order_by("id")
            .values("order_id", "name", "type", "value")
        ):
            attributes.setdefault(attribute["order_id"], []).append(attribute)
        items: dict = {}
        for order_id, item_id in (
            OrderItem.objects.filter(order_id__in_array=found)
            .order_by("order_id", "position")
            .values_list("order_id", "id")
        ):
            items.setdefault(order_id, []).append(item_id)
        for order in orders:
            pk = order["id"]
            documents[pk] = _document(order, addresses.get(pk, {}), attributes.get(pk, []), items.get(pk, []))
    return documents


def order_item_to_epcc(item) -> dict:
    document = {
        "type": "order_item",
        "id": str(item.id),
        "quantity": item.quantity,
        "name": item.name,
        "sku": item.sku,
        "unit_price": {"amount": item.unit_amount, "currency": item.currency, "includes_tax": True},
    }
    if item.product_id:
        document["product_id"] = str(item.product_id)
    return document
