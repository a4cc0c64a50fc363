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

from psycopg import sql

from core.models import RecordType, UpstreamState
from epcc.documents.formats import (
    fetch_documents,
    member,
    optional_member,
    sql_column,
    sql_column_name,
    sql_json_constant,
    sql_json_field,
    sql_json_quoted,
    sql_money,
    sql_object,
    sql_table,
    sql_timestamp,
)
from epcc.documents.upstream import sql_upstream
from orders.masking_sql import OrderDocuments
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

# The documents of the orders whose ids are the one parameter (a uuid[]), in
# the ids' order; an unknown id gives no row. {columns}: the document of
# the order `o`, its shipping address `s` and its billing address `b`, after
# its id as text when the rows are (id, document).
ORDER_DOCUMENTS = """
SELECT {columns}
FROM unnest(%s::uuid[]) WITH ORDINALITY AS request(id, position)
JOIN {order} o ON o.{order_id} = request.id
LEFT JOIN {address} s ON s.{address_order_id} = o.{order_id} AND s.{address_kind} = {shipping}
LEFT JOIN {address} b ON b.{address_order_id} = o.{order_id} AND b.{address_kind} = {billing}
ORDER BY request.position
"""

# Custom attributes `a` as an object, name -> {attribute} (its {name, type,
# value}), in id order; NULL over no row.
ATTRIBUTES_OBJECT = "'{{' || string_agg({name} || ':' || {attribute}, ',' ORDER BY a.{attribute_id}) || '}}'"
# Those of the order `o`.
ORDER_ATTRIBUTES = """(
    SELECT {attributes_object}
    FROM {attribute_table} a
    WHERE a.{attribute_order_id} = o.{order_id}
)"""

# The items of the order `o` as an array of {item} ({type: item, id}) in
# position order, the id breaking ties so that the order is the same every
# time; [] when the order has none.
ORDER_ITEMS = """COALESCE((
    SELECT '[' || string_agg({item}, ',' ORDER BY i.{item_position}, i.{item_id}) || ']'
    FROM {item_table} i
    WHERE i.{item_order_id} = o.{order_id}
), '[]')"""


def _order(name: str) -> sql.Composed:
    return sql_column("o", Order, name)


def _present(**columns) -> sql.Composed:
    """The non-NULL columns of the order as an object; NULL when none is."""
    members = (optional_member(key, sql_json_field("o", Order, name)) for key, name in columns.items())
    return sql_object(*members, omit_empty=True)


def _address(alias: str, fields) -> sql.Composed:
    """The address row joined as `alias`, its NULL fields left out; NULL when there is no such row."""
    body = sql_object(*(optional_member(name, sql_json_field(alias, OrderAddress, name)) for name in fields))
    return sql.SQL("CASE WHEN {id} IS NOT NULL THEN {body} END").format(
        id=sql_column(alias, OrderAddress, "id"), body=body
    )


def _attributes_object() -> sql.Composed:
    """ATTRIBUTES_OBJECT composed: an aggregate over custom attribute rows `a`."""

    def field(name: str) -> sql.Composed:
        return sql_json_field("a", OrderCustomAttribute, name)

    value = sql.SQL("{}::text").format(sql_column("a", OrderCustomAttribute, "value"))  # jsonb: JSON text
    attribute = sql_object(
        member("name", field("name")), member("type", field("type")), member("value", value)
    )
    return sql.SQL(ATTRIBUTES_OBJECT).format(
        name=field("name"), attribute=attribute, attribute_id=sql_column_name(OrderCustomAttribute, "id")
    )


def _attributes() -> sql.Composed:
    """ORDER_ATTRIBUTES composed: the order's custom attributes."""
    return sql.SQL(ORDER_ATTRIBUTES).format(
        attributes_object=_attributes_object(),
        attribute_table=sql_table(OrderCustomAttribute),
        attribute_order_id=sql_column_name(OrderCustomAttribute, "order"),
        order_id=sql_column_name(Order, "id"),
    )


def _items() -> sql.Composed:
    """ORDER_ITEMS composed: the order's items."""
    item = sql_object(
        member("type", sql_json_constant("item")), member("id", sql_json_field("i", OrderItem, "id"))
    )
    return sql.SQL(ORDER_ITEMS).format(
        item=item,
        item_table=sql_table(OrderItem),
        item_position=sql_column_name(OrderItem, "position"),
        item_id=sql_column_name(OrderItem, "id"),
        item_order_id=sql_column_name(OrderItem, "order"),
        order_id=sql_column_name(Order, "id"),
    )


def _related(kind: str, field: str) -> sql.Composed:
    """{data: {type, id}} of a related id; NULL when it is not set."""
    data = sql_object(
        member("type", sql_json_constant(kind)), member("id", sql_json_field("o", Order, field))
    )
    return sql.SQL("CASE WHEN {id} IS NOT NULL THEN {related} END").format(
        id=_order(field), related=sql_object(member("data", data))
    )


def _document(
    attributes: sql.Composable | None = None, upstream: sql.Composable | None = None
) -> sql.Composed:
    """The document (JSON text) of the order `o` of ORDER_DOCUMENTS.

    `attributes`: the custom attributes' object, by default read by a subquery;
    `upstream`: meta.upstream, by default the record's latest push (epcc/documents/upstream.py).
    """
    currency = _order("currency")
    display_price = sql_object(*(member(name, sql_money(_order(name), currency)) for name in MONEY_FIELDS))
    timestamps = sql_object(
        *(member(name, sql_json_quoted(sql_timestamp(_order(name)))) for name in ("created_at", "updated_at"))
    )
    meta = sql_object(
        member("display_price", display_price),
        member("timestamps", timestamps),
        optional_member(
            "upstream", sql_upstream(RecordType.ORDER, _order("id")) if upstream is None else upstream
        ),
    )
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
        optional_member("custom_attributes", _attributes() if attributes is None else attributes),
        member("links", sql_json_constant({})),
        member("meta", meta),
        member("relationships", relationships),
    )


@cache
def documents_sql(with_id: bool = False) -> str:
    """ORDER_DOCUMENTS composed with the models' tables and columns (once per `with_id`)."""
    document = _document()
    return (
        sql.SQL(ORDER_DOCUMENTS)
        .format(
            columns=sql.SQL(", ").join([sql.SQL("request.id::text"), document] if with_id else [document]),
            order=sql_table(Order),
            order_id=sql_column_name(Order, Order._meta.pk.name),
            address=sql_table(OrderAddress),
            address_order_id=sql_column_name(OrderAddress, "order"),
            address_kind=sql_column_name(OrderAddress, "kind"),
            shipping=sql.Literal(AddressKind.SHIPPING.value),
            billing=sql.Literal(AddressKind.BILLING.value),
        )
        .as_string()
    )


@cache
def masked_documents(pushed: bool = False) -> OrderDocuments:
    """The order's EPCC document as orders.masking_sql writes it from the rows it masked.

    Given to orders_anonymize as `returning`, the masking statement itself
    writes the documents of the orders it changes, as they are after the change.
    The outbox row of each change is written after that statement, in the same
    transaction (core/audit.py): with `pushed` (a store is configured), the
    documents say `meta.upstream` is pending, as a read after the commit would.
    """
    attributes = sql.SQL("attribute_documents.document")
    upstream = sql_json_constant({"state": UpstreamState.PENDING.value}) if pushed else sql.SQL("NULL")
    return OrderDocuments(
        document=_document(attributes, upstream).as_string(), attributes=_attributes_object().as_string()
    )


def orders_epcc_json(order_ids: list, written: dict | None = None) -> list[str]:
    """The JSON text of each existing order's EPCC document, in the order of order_ids.

    Unknown ids are skipped, repeated ones answered once. `written` (id as
    text -> text) holds documents already at hand, such as those the
    anonymizing statement returned; only the others are read.
    """
    if not written:
        return fetch_documents(documents_sql(), order_ids)
    order = [str(pk) for pk in dict.fromkeys(order_ids)]
    rest = [pk for pk in order if pk not in written]
    read = dict(fetch_documents(documents_sql(with_id=True), rest)) if rest else {}
    return [text for pk in order if (text := written.get(pk) or read.get(pk)) is not None]


def orders_documents(order_ids: list[uuid.UUID]) -> list[dict]:
    """Each existing order's EPCC document as a dict, in the order of order_ids (see orders_epcc_json)."""
    return [json.loads(text) for text in orders_epcc_json(order_ids)]


def order_document(order_id: uuid.UUID) -> dict | None:
    """The order's EPCC document as a dict; None when there is no such order."""
    documents = orders_documents([order_id])
    return documents[0] if documents else None
