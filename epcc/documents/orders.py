"""Orders in EPCC's document shape (seed 002/003): the one builder of the order document.

PostgreSQL writes each document as JSON text, one SELECT per chunk of ids,
and Python only joins the strings: for the API's lists and anonymize answers,
the subject access export and round-trips. A key whose value EPCC did not
send (stored as NULL) is left out, so an imported document serializes back
to itself. A caller that needs a dict parses the text (`order_document`,
`orders_documents`).
"""

import json
import uuid
from functools import cache

from epcc.documents.formats import (
    fetch_documents,
    member,
    optional_member,
    sql_column,
    sql_documents,
    sql_json_constant,
    sql_json_field,
    sql_json_quoted,
    sql_literal,
    sql_money,
    sql_object,
    sql_table,
    sql_timestamp,
)
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


def _order(name: str) -> str:
    return sql_column("o", Order, name)


def _present(**columns) -> str:
    """The non-NULL columns of the order as an object; NULL when none is."""
    members = (optional_member(key, sql_json_field("o", Order, name)) for key, name in columns.items())
    return sql_object(*members, omit_empty=True)


def _address(alias: str, fields) -> str:
    """The address row joined as `alias`, its NULL fields left out; NULL when there is no such row."""
    body = sql_object(*(optional_member(name, sql_json_field(alias, OrderAddress, name)) for name in fields))
    return f"CASE WHEN {sql_column(alias, OrderAddress, 'id')} IS NOT NULL THEN {body} END"


def _attributes() -> str:
    """name -> {name, type, value}, in id order; NULL when the order has none."""

    def column(name: str) -> str:
        return sql_column("a", OrderCustomAttribute, name)

    name = sql_json_field("a", OrderCustomAttribute, "name")
    attribute = sql_object(
        member("name", name),
        member("type", sql_json_field("a", OrderCustomAttribute, "type")),
        member("value", f"{column('value')}::text"),  # jsonb: JSON text already
    )
    aggregate = f"string_agg({name} || ':' || {attribute}, ',' ORDER BY {column('id')})"
    return (
        f"(SELECT '{{' || {aggregate} || '}}' FROM {sql_table(OrderCustomAttribute)} a"  # noqa: S608
        f" WHERE {column('order')} = {_order('id')})"
    )


def _items() -> str:
    """[{type: item, id}] in position order; [] when the order has none."""

    def column(name: str) -> str:
        return sql_column("i", OrderItem, name)

    item = sql_object(
        member("type", sql_json_constant("item")), member("id", sql_json_field("i", OrderItem, "id"))
    )
    # The id breaks ties of position, so that the order is the same every time.
    aggregate = f"string_agg({item}, ',' ORDER BY {column('position')}, {column('id')})"
    return (
        f"COALESCE((SELECT '[' || {aggregate} || ']' FROM {sql_table(OrderItem)} i"  # noqa: S608
        f" WHERE {column('order')} = {_order('id')}), '[]')"
    )


def _related(kind: str, field: str) -> str:
    """{data: {type, id}} of a related id; NULL when it is not set."""
    data = sql_object(
        member("type", sql_json_constant(kind)), member("id", sql_json_field("o", Order, field))
    )
    return f"CASE WHEN {_order(field)} IS NOT NULL THEN {sql_object(member('data', data))} END"


def _document() -> str:
    currency = _order("currency")
    display_price = sql_object(*(member(name, sql_money(_order(name), currency)) for name in MONEY_FIELDS))
    timestamps = sql_object(
        *(member(name, sql_json_quoted(sql_timestamp(_order(name)))) for name in ("created_at", "updated_at"))
    )
    meta = sql_object(member("display_price", display_price), member("timestamps", timestamps))
    relationships = sql_object(
        member("items", sql_object(member("data", _items()))),
        optional_member("customer", _related("customer", "customer_id")),
        optional_member("account", _related("account", "account_id")),
    )
    return sql_object(
        member("type", sql_json_constant("order")),
        *(
            member(name, sql_json_field("o", Order, name))
            for name in ("id", "status", "payment", "shipping", "anonymized")
        ),
        optional_member("customer", _present(name="customer_name", email="customer_email")),
        optional_member("contact", _present(name="contact_name", email="contact_email")),
        optional_member("shipping_address", _address("s", SHIPPING_ADDRESS_FIELDS)),
        optional_member("billing_address", _address("b", BILLING_ADDRESS_FIELDS)),
        optional_member("custom_attributes", _attributes()),
        member("links", sql_json_constant({})),
        member("meta", meta),
        member("relationships", relationships),
    )


@cache
def documents_sql() -> str:
    """The SELECT of the documents of the ids in its one parameter (a uuid[]), in their order."""

    def joined(alias: str, kind: str) -> str:
        return (
            f"LEFT JOIN {sql_table(OrderAddress)} {alias}"
            f" ON {sql_column(alias, OrderAddress, 'order')} = {_order('id')}"
            f" AND {sql_column(alias, OrderAddress, 'kind')} = {sql_literal(kind)}"
        )

    joins = f"{joined('s', AddressKind.SHIPPING)} {joined('b', AddressKind.BILLING)}"
    return sql_documents(_document(), model=Order, alias="o", joins=joins)


def orders_epcc_json(order_ids: list[uuid.UUID]) -> list[str]:
    """The JSON text of each existing order's EPCC document, in the order of order_ids.

    Unknown ids are skipped, repeated ones answered once.
    """
    return fetch_documents(documents_sql(), order_ids)


def orders_documents(order_ids: list[uuid.UUID]) -> list[dict]:
    """Each existing order's EPCC document as a dict, in the order of order_ids (see orders_epcc_json)."""
    return [json.loads(text) for text in orders_epcc_json(order_ids)]


def order_document(order_id: uuid.UUID) -> dict | None:
    """The order's EPCC document as a dict; None when there is no such order."""
    documents = orders_documents([order_id])
    return documents[0] if documents else None
