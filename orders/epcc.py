"""Orders in EPCC's document shape (seed 002/003), for the API, exports and round-trips.

A key whose value EPCC did not send (stored as NULL) is left out, so an
imported document serializes back to itself.
"""

from core.epcc import format_timestamp, money
from orders.models import BILLING_ADDRESS_FIELDS, MONEY_FIELDS, SHIPPING_ADDRESS_FIELDS, AddressKind, Order


def _present(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _address(address, fields) -> dict:
    return {name: getattr(address, name) for name in fields if getattr(address, name) is not None}


def order_to_epcc(order: Order) -> dict:
    """Expects `Order.objects.for_epcc()` so that related rows cost no query."""
    document = {
        "type": "order",
        "id": str(order.id),
        "status": order.status,
        "payment": order.payment,
        "shipping": order.shipping,
        "anonymized": order.anonymized,
    }
    customer = _present(name=order.customer_name, email=order.customer_email)
    if customer:
        document["customer"] = customer
    contact = _present(name=order.contact_name, email=order.contact_email)
    if contact:
        document["contact"] = contact
    addresses = {address.kind: address for address in order.addresses.all()}
    if AddressKind.SHIPPING in addresses:
        document["shipping_address"] = _address(addresses[AddressKind.SHIPPING], SHIPPING_ADDRESS_FIELDS)
    if AddressKind.BILLING in addresses:
        document["billing_address"] = _address(addresses[AddressKind.BILLING], BILLING_ADDRESS_FIELDS)
    attributes = order.custom_attributes.all()
    if attributes:
        document["custom_attributes"] = {
            attribute.name: {"name": attribute.name, "type": attribute.type, "value": attribute.value}
            for attribute in attributes
        }
    document["links"] = {}
    document["meta"] = {
        "display_price": {name: money(getattr(order, name), order.currency) for name in MONEY_FIELDS},
        "timestamps": {
            "created_at": format_timestamp(order.created_at),
            "updated_at": format_timestamp(order.updated_at),
        },
    }
    relationships = {
        "items": {"data": [{"type": "item", "id": str(item.id)} for item in order.items.all()]},
    }
    if order.customer_id:
        relationships["customer"] = {"data": {"type": "customer", "id": str(order.customer_id)}}
    if order.account_id:
        relationships["account"] = {"data": {"type": "account", "id": str(order.account_id)}}
    document["relationships"] = relationships
    return document


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
