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
WITH masked_order (id, {order_flags}) AS (
    UPDATE {order} SET {anonymized} = true, {updated_at} = %(now)s, {order_masks}
    WHERE {order_id} = ANY(%(order_ids)s::uuid[])
    RETURNING {order_id}, {order_has_values}
),
masked_address (order_id, kind, {address_flags}) AS (
    UPDATE {address} SET {address_masks}
    WHERE {address_order_id} = ANY(%(order_ids)s::uuid[])
    RETURNING {address_order_id}, {address_kind}, {address_has_values}
),
masked_attribute (order_id, name) AS (
    UPDATE {attribute} SET {attribute_value} = to_jsonb(%(mask)s::text)
    -- a value: neither SQL NULL (which NOT IN leaves out), JSON null nor ""
    WHERE {attribute_order_id} = ANY(%(order_ids)s::uuid[])
      AND {attribute_value} NOT IN ('null'::jsonb, '""'::jsonb)
    RETURNING {attribute_order_id}, {attribute_name}
),
attribute_names AS (
    SELECT order_id, array_agg(name ORDER BY name) AS names
    FROM masked_attribute
    GROUP BY order_id
)
SELECT {grouped_by}, array_agg(masked_order.id::text)
FROM masked_order
LEFT JOIN masked_address shipping
    ON shipping.order_id = masked_order.id AND shipping.kind = {shipping}
LEFT JOIN masked_address billing
    ON billing.order_id = masked_order.id AND billing.kind = {billing}
LEFT JOIN attribute_names ON attribute_names.order_id = masked_order.id
GROUP BY {grouped_by}
"""

# Orders per chunk from which mask_orders sets its transaction's work_mem and JIT.
LARGE_CHUNK = 10_000

# A row of MASK_ORDERS: (has-value flag per ORDER_PERSONAL_FIELDS, per
# ADDRESS_PERSONAL_FIELDS of the shipping address, of the billing address
# (None without one), the names of the masked attributes or None, the ids as
# text: the audit INSERT takes them so, and 1,000 uuid objects cost a millisecond).
ORDER_FLAGS = slice(0, len(ORDER_PERSONAL_FIELDS))
SHIPPING_FLAGS = slice(ORDER_FLAGS.stop, ORDER_FLAGS.stop + len(ADDRESS_PERSONAL_FIELDS))
BILLING_FLAGS = slice(SHIPPING_FLAGS.stop, SHIPPING_FLAGS.stop + len(ADDRESS_PERSONAL_FIELDS))
ATTRIBUTE_NAMES = BILLING_FLAGS.stop
ORDER_IDS = ATTRIBUTE_NAMES + 1


def mask_orders(order_ids: list[uuid.UUID], *, now: datetime, mask: str) -> list[tuple]:
    """Mask these orders (locked, not yet anonymized) in one statement; its rows, grouped (see above)."""
    with connection.cursor() as cursor:
        if len(order_ids) >= LARGE_CHUNK:
            # At the default work_mem the grouping of a large chunk sorts on disk,
            # and JIT compiles the statement: both cost more than they save here
            # (docs/performance.md). Until the transaction ends.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            mask_orders_sql(),
            {"order_ids": Ids(order_ids).array_literal(), "now": now, "mask": mask},
        )
        return cursor.fetchall()


def _flags(prefix: str, count: int) -> list[str]:
    """Names for the RETURNING flags of a CTE's columns."""
    return [f"{prefix}{number}" for number in range(count)]


@functools.cache
def mask_orders_sql() -> str:
    """MASK_ORDERS composed with the models' tables and columns (once: nothing in it varies)."""
    order_columns = columns(Order, ORDER_PERSONAL_FIELDS)
    address_columns = columns(OrderAddress, ADDRESS_PERSONAL_FIELDS)
    order_flags = _flags("order_", len(ORDER_PERSONAL_FIELDS))
    address_flags = _flags("address_", len(ADDRESS_PERSONAL_FIELDS))
    grouped_by = [
        *(sql.Identifier("masked_order", flag) for flag in order_flags),
        *(sql.Identifier("shipping", flag) for flag in address_flags),
        *(sql.Identifier("billing", flag) for flag in address_flags),
        sql.Identifier("attribute_names", "names"),
    ]
    return (
        sql.SQL(MASK_ORDERS)
        .format(
            order=table(Order),
            order_id=column(Order, "pk"),
            anonymized=column(Order, "anonymized"),
            updated_at=column(Order, "updated_at"),
            order_flags=sql.SQL(", ").join(map(sql.Identifier, order_flags)),
            order_masks=sql_masked(order_columns),
            order_has_values=sql_has_value(order_columns),
            address=table(OrderAddress),
            address_order_id=column(OrderAddress, "order"),
            address_kind=column(OrderAddress, "kind"),
            address_flags=sql.SQL(", ").join(map(sql.Identifier, address_flags)),
            address_masks=sql_masked(address_columns),
            address_has_values=sql_has_value(address_columns),
            attribute=table(OrderCustomAttribute),
            attribute_order_id=column(OrderCustomAttribute, "order"),
            attribute_name=column(OrderCustomAttribute, "name"),
            attribute_value=column(OrderCustomAttribute, "value"),
            shipping=sql.Literal(AddressKind.SHIPPING.value),
            billing=sql.Literal(AddressKind.BILLING.value),
            grouped_by=sql.SQL(", ").join(grouped_by),
        )
        .as_string()
    )
