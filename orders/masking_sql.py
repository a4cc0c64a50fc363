"""The statement that masks a chunk of orders, as one SQL text.

Its three UPDATEs (the orders, their addresses, their custom attributes) run
as data-modifying CTEs, each returning which of its columns held a value;
PostgreSQL then groups the orders by those flags, so a chunk of 1,000
orders comes back as a handful of rows (one per distinct pattern, with the
ids of its orders) rather than a row per order, address and attribute to
read and sort in Python.

The mask is never empty, so a column holds a value after masking exactly
when it did before: the RETURNING flags tell what was masked without
reading a personal value. Tables and columns come from the models' _meta,
the field lists from orders.models; the mask, the time and the ids are
parameters.
"""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from psycopg import sql

from core.lookups import Ids
from core.masking import sql_has_value, sql_masked
from core.sql import column, columns, table
from orders.models import (
    ADDRESS_PERSONAL_FIELDS,
    ORDER_PERSONAL_FIELDS,
    AddressKind,
    Order,
    OrderAddress,
    OrderCustomAttribute,
)

MASK_ORDERS = """
WITH masked_order AS (
    UPDATE {order} SET {anonymized} = true, {updated_at} = %(now)s, {order_masks}
    WHERE {order_id} = ANY(%(order_ids)s::uuid[])
    RETURNING {order_returned}, {order_has_values}
),
masked_address AS (
    UPDATE {address} SET {address_masks}
    WHERE {address_order_id} = ANY(%(order_ids)s::uuid[])
    RETURNING {address_returned}, {address_has_values}
),
masked_attribute AS (
    UPDATE {attribute} SET {attribute_value} = to_jsonb(%(mask)s::text)
    -- a value: neither SQL NULL (which NOT IN leaves out), JSON null nor ""
    WHERE {attribute_order_id} = ANY(%(order_ids)s::uuid[])
      AND {attribute_value} NOT IN ('null'::jsonb, '""'::jsonb)
    RETURNING {attribute_returned}
),
attribute_names AS (
    SELECT {attribute_order_id} AS order_id, array_agg({attribute_name} ORDER BY {attribute_name}) AS names
    FROM masked_attribute
    GROUP BY {attribute_order_id}
){documents_ctes}
SELECT {grouped_by}, array_agg(o.{order_id}::text){documents}
FROM masked_order o
LEFT JOIN masked_address s ON s.{address_order_id} = o.{order_id} AND s.{address_kind} = {shipping}
LEFT JOIN masked_address b ON b.{address_order_id} = o.{order_id} AND b.{address_kind} = {billing}
LEFT JOIN attribute_names ON attribute_names.order_id = o.{order_id}{documents_join}
GROUP BY {grouped_by}
"""

# With documents (OrderDocuments): every custom attribute of the orders as
# it is after masking (the masked ones as their UPDATE returned them, the
# others from the table, unchanged), and each order's aggregate of them.
DOCUMENTS_CTES = """,
attribute_row AS (
    SELECT * FROM masked_attribute
    UNION ALL
    SELECT * FROM {attribute}
    WHERE {attribute_order_id} = ANY(%(order_ids)s::uuid[])
      AND ({attribute_value} IS NULL OR {attribute_value} IN ('null'::jsonb, '""'::jsonb))
),
attribute_documents AS (
    SELECT a.{attribute_order_id} AS order_id, {attributes} AS document
    FROM attribute_row a
    GROUP BY a.{attribute_order_id}
)"""
DOCUMENTS_JOIN = """
LEFT JOIN attribute_documents ON attribute_documents.order_id = o.{order_id}"""


@dataclass(frozen=True)
class OrderDocuments:
    """What a caller has the masking statement write per order, from the rows as they are after it.

    `attributes`: an aggregate over the order's custom attributes `a`
    (grouped by order); `document`: an expression over the order `o`, its
    shipping and billing addresses `s` and `b` (NULL where there is none),
    and `attribute_documents.document`, the aggregate (NULL without
    attributes). Such as the order's EPCC document (epcc.documents.orders).
    Both are SQL texts (composed), so the statement is composed once per pair.
    """

    document: str
    attributes: str


# Orders per chunk from which mask_orders sets its transaction's work_mem and JIT.
LARGE_CHUNK = 10_000

# A row of MASK_ORDERS: (has-value flag per ORDER_PERSONAL_FIELDS, per
# ADDRESS_PERSONAL_FIELDS of the shipping address, of the billing address
# (None without one), the names of the masked attributes or None, the ids as
# text: the audit INSERT takes them so, and 1,000 uuid objects cost a millisecond),
# and with documents, theirs in the same order).
ORDER_FLAGS = slice(0, len(ORDER_PERSONAL_FIELDS))
SHIPPING_FLAGS = slice(ORDER_FLAGS.stop, ORDER_FLAGS.stop + len(ADDRESS_PERSONAL_FIELDS))
BILLING_FLAGS = slice(SHIPPING_FLAGS.stop, SHIPPING_FLAGS.stop + len(ADDRESS_PERSONAL_FIELDS))
ATTRIBUTE_NAMES = BILLING_FLAGS.stop
ORDER_IDS = ATTRIBUTE_NAMES + 1
DOCUMENTS = ORDER_IDS + 1


def mask_orders(
    order_ids: list[uuid.UUID], *, now: datetime, mask: str, documents: OrderDocuments | None = None
) -> list[tuple]:
    """Mask these orders (locked, not yet anonymized) in one statement; its rows, grouped (see above)."""
    with connection.cursor() as cursor:
        if len(order_ids) >= LARGE_CHUNK:
            # At the default work_mem the grouping of a large chunk sorts on disk,
            # and JIT compiles the statement: both cost more than they save here
            # (docs/performance.md). Until the transaction ends.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            mask_orders_sql(documents),
            {"order_ids": Ids(order_ids).array_literal(), "now": now, "mask": mask},
        )
        return cursor.fetchall()


def _flags(prefix: str, count: int) -> list[str]:
    """Names for the RETURNING flags of a CTE's columns."""
    return [f"{prefix}{number}" for number in range(count)]


@functools.cache
def mask_orders_sql(documents: OrderDocuments | None = None) -> str:
    """MASK_ORDERS composed with the models' tables and columns (once per `documents`)."""
    order_columns = columns(Order, ORDER_PERSONAL_FIELDS)
    address_columns = columns(OrderAddress, ADDRESS_PERSONAL_FIELDS)
    order_flags = _flags("order_", len(ORDER_PERSONAL_FIELDS))
    address_flags = _flags("address_", len(ADDRESS_PERSONAL_FIELDS))
    grouped_by = [
        *(sql.Identifier("o", flag) for flag in order_flags),
        *(sql.Identifier("s", flag) for flag in address_flags),
        *(sql.Identifier("b", flag) for flag in address_flags),
        sql.Identifier("attribute_names", "names"),
    ]
    names = {
        "order": table(Order),
        "order_id": column(Order, "pk"),
        "address_order_id": column(OrderAddress, "order"),
        "address_kind": column(OrderAddress, "kind"),
        "attribute": table(OrderCustomAttribute),
        "attribute_order_id": column(OrderCustomAttribute, "order"),
        "attribute_name": column(OrderCustomAttribute, "name"),
        "attribute_value": column(OrderCustomAttribute, "value"),
    }
    every = sql.SQL("{}.*")
    if documents is None:
        returned = {
            "order_returned": names["order_id"],
            "address_returned": sql.SQL("{}, {}").format(names["address_order_id"], names["address_kind"]),
            "attribute_returned": sql.SQL("{}, {}").format(
                names["attribute_order_id"], names["attribute_name"]
            ),
            "documents_ctes": sql.SQL(""),
            "documents": sql.SQL(""),
            "documents_join": sql.SQL(""),
        }
    else:
        returned = {
            "order_returned": every.format(names["order"]),
            "address_returned": every.format(table(OrderAddress)),
            "attribute_returned": every.format(names["attribute"]),
            "documents_ctes": sql.SQL(DOCUMENTS_CTES).format(
                attributes=sql.SQL(documents.attributes), **names
            ),
            "documents": sql.SQL(", array_agg({})").format(sql.SQL(documents.document)),
            "documents_join": sql.SQL(DOCUMENTS_JOIN).format(order_id=names["order_id"]),
        }
    return (
        sql.SQL(MASK_ORDERS)
        .format(
            **names,
            **returned,
            anonymized=column(Order, "anonymized"),
            updated_at=column(Order, "updated_at"),
            order_masks=sql_masked(order_columns),
            order_has_values=sql_has_value(order_columns, order_flags),
            address=table(OrderAddress),
            address_masks=sql_masked(address_columns),
            address_has_values=sql_has_value(address_columns, address_flags),
            shipping=sql.Literal(AddressKind.SHIPPING.value),
            billing=sql.Literal(AddressKind.BILLING.value),
            grouped_by=sql.SQL(", ").join(grouped_by),
        )
        .as_string()
    )
