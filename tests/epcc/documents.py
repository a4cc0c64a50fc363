"""The EPCC documents tests expect, spelled out from the rows (seeds 000 to 003 show the shapes).

The product has one builder of each document, PostgreSQL's (epcc.documents.orders,
epcc.documents.usages); these are what its output must be, key for key and in
EPCC's key order. A key whose value is NULL is left out where EPCC leaves it
out; the seed round-trip tests pin the same shapes literally.
"""

from datetime import UTC, datetime

from core.formats import format_money
from orders.models import AddressKind, Order, OrderAddress, OrderCustomAttribute, OrderItem
from promotions.models import CodeUsage


def epcc_timestamp(value: datetime) -> str:
    """'2024-08-15T23:27:18.068Z' in UTC, milliseconds only when there is a fraction."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def epcc_money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency, "formatted": format_money(amount, currency)}


def _present(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _address(address: OrderAddress, names: tuple[str, ...]) -> dict:
    return _present(**{name: getattr(address, name) for name in names})


SHIPPING = (
    "first_name",
    "last_name",
    "phone_number",
    "company_name",
    "line_1",
    "line_2",
    "city",
    "postcode",
    "county",
    "region",
    "country",
    "instructions",
)
BILLING = tuple(name for name in SHIPPING if name not in ("phone_number", "instructions"))
PRICES = (
    "with_tax",
    "without_tax",
    "tax",
    "discount",
    "balance_owing",
    "paid",
    "authorized",
    "without_discount",
)


def expected_order_document(order_id) -> dict:
    """The order's document as stored now: attributes in id order, items in position order."""
    order = Order.objects.get(pk=order_id)
    addresses = {address.kind: address for address in OrderAddress.objects.filter(order=order)}
    attributes = OrderCustomAttribute.objects.filter(order=order).order_by("id")
    items = OrderItem.objects.filter(order=order).order_by("position", "id").values_list("id", flat=True)
    document = {
        "type": "order",
        "id": str(order.pk),
        "status": order.status,
        "payment": order.payment,
        "shipping": order.shipping,
        "anonymized": order.anonymized,
    }
    if customer := _present(name=order.customer_name, email=order.customer_email):
        document["customer"] = customer
    if contact := _present(name=order.contact_name, email=order.contact_email):
        document["contact"] = contact
    if AddressKind.SHIPPING in addresses:
        document["shipping_address"] = _address(addresses[AddressKind.SHIPPING], SHIPPING)
    if AddressKind.BILLING in addresses:
        document["billing_address"] = _address(addresses[AddressKind.BILLING], BILLING)
    if attributes:
        document["custom_attributes"] = {
            a.name: {"name": a.name, "type": a.type, "value": a.value} for a in attributes
        }
    document["links"] = {}
    document["meta"] = {
        "display_price": {name: epcc_money(getattr(order, name), order.currency) for name in PRICES},
        "timestamps": {
            "created_at": epcc_timestamp(order.created_at),
            "updated_at": epcc_timestamp(order.updated_at),
        },
    }
    relationships = {"items": {"data": [{"type": "item", "id": str(pk)} for pk in items]}}
    if order.customer_id:
        relationships["customer"] = {"data": {"type": "customer", "id": str(order.customer_id)}}
    if order.account_id:
        relationships["account"] = {"data": {"type": "account", "id": str(order.account_id)}}
    document["relationships"] = relationships
    return document


def expected_usage_document(usage_id) -> dict:
    """The usage's document as stored now; an empty updated_by is left out like a missing one."""
    usage = CodeUsage.objects.get(pk=usage_id)
    document = {
        "id": str(usage.pk),
        "order_id": str(usage.order_id) if usage.order_id else None,
        "code_id": str(usage.promotion_code_id),
        "code": usage.code,
        "times_used": usage.times_used,
        "used_on": epcc_timestamp(usage.used_on),
    }
    if usage.customer_id:
        document["customer_id"] = str(usage.customer_id)
    document["customer_email"] = usage.customer_email
    document["meta"] = {"timestamps": {"updated_at": epcc_timestamp(usage.updated_at)}}
    if usage.updated_by:
        document["updated_by"] = usage.updated_by
    document["anonymized"] = usage.anonymized
    if usage.account_id:
        document["account_id"] = str(usage.account_id)
    return document


def key_initiator(api_key) -> dict:
    """The Personal Data API's `initiator` of an API key."""
    return {
        "access-token-email": None,
        "access-token-id": str(api_key.key_id),
        "access-token-name": api_key.name,
        "access-token-store-id": None,
        "access-token-type": "client-credentials-token",
    }
