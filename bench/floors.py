"""The floors: hand-written SQL doing the same writes as the product, nothing else.

Two per write (issue 17):

- raw: the masking UPDATEs alone, one transaction per batch;
- JSON: the same UPDATEs as data-modifying CTEs, and the endpoint's documents
  written from what they return (`UPDATE ... RETURNING`, aggregated into one
  JSON array), fetched as one text: what a hand-written endpoint would do to
  answer the same request, without locks, rule checks or audit records. The
  documents are written by the product's own expressions (JSON text by
  concatenation): `json_agg` of `json_build_object` wrote the same documents
  about 3x slower than the product, which made no floor.

The ids go as one array parameter, the mask as a parameter, as the product
sends them.
"""

import functools

from django.conf import settings
from django.db import connection, transaction

from orders.models import ADDRESS_PERSONAL_FIELDS, ORDER_PERSONAL_FIELDS

# The personal columns (each field's column is its name), as the product masks them.
ORDER_FIELDS = ORDER_PERSONAL_FIELDS
ADDRESS_FIELDS = ADDRESS_PERSONAL_FIELDS


def uuid_array(ids: list) -> str:
    """The ids as one PostgreSQL array literal, as the product sends them."""
    return "{" + ",".join(map(str, ids)) + "}"


def _masked(column: str) -> str:
    return f"{column} = CASE WHEN {column} IS NULL OR {column} = '' THEN {column} ELSE %(mask)s END"


ORDER_SETS = ", ".join(_masked(c) for c in ORDER_FIELDS)
ADDRESS_SETS = ", ".join(_masked(c) for c in ADDRESS_FIELDS)

ORDERS_RAW = (
    f"UPDATE orders_order SET anonymized = true, updated_at = now(), {ORDER_SETS} "  # noqa: S608
    "WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized",
    f"UPDATE orders_orderaddress SET {ADDRESS_SETS} WHERE order_id = ANY(%(ids)s::uuid[])",  # noqa: S608
    "UPDATE orders_ordercustomattribute SET value = to_jsonb(%(mask)s::text) "
    "WHERE order_id = ANY(%(ids)s::uuid[]) AND value IS NOT NULL "
    "AND value <> 'null'::jsonb AND value <> '\"\"'::jsonb",
)


# The same three UPDATEs, returning their rows, and the endpoint's documents
# written from them with the product's own document expressions
# (epcc.documents.orders: JSON text by concatenation, its fastest way), as
# one JSON array: attributes masked by the UPDATE come from its RETURNING, the
# others, unchanged, from the table; the item ids from the table.
ORDERS_JSON = """
WITH o AS (
    UPDATE orders_order SET anonymized = true, updated_at = now(), {order_sets}
    WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized
    RETURNING *
), ad AS (
    UPDATE orders_orderaddress SET {address_sets} WHERE order_id = ANY(%(ids)s::uuid[])
    RETURNING *
), at AS (
    UPDATE orders_ordercustomattribute SET value = to_jsonb(%(mask)s::text)
    WHERE order_id = ANY(%(ids)s::uuid[]) AND value IS NOT NULL
      AND value <> 'null'::jsonb AND value <> '""'::jsonb
    RETURNING *
), attribute_row AS (
    SELECT * FROM at
    UNION ALL
    SELECT * FROM orders_ordercustomattribute
    WHERE order_id = ANY(%(ids)s::uuid[]) AND (value IS NULL OR value IN ('null'::jsonb, '""'::jsonb))
), attribute_documents AS (
    SELECT a.order_id, {attributes} AS document FROM attribute_row a GROUP BY a.order_id
)
SELECT '[' || string_agg({document}, ',') || ']'
FROM o
LEFT JOIN ad s ON s.order_id = o.id AND s.kind = 'shipping'
LEFT JOIN ad b ON b.order_id = o.id AND b.kind = 'billing'
LEFT JOIN attribute_documents ON attribute_documents.order_id = o.id
"""


@functools.cache
def orders_json_sql() -> str:
    from epcc.documents.orders import masked_documents

    documents = masked_documents()
    return (
        ORDERS_JSON.replace("{order_sets}", ORDER_SETS)
        .replace("{address_sets}", ADDRESS_SETS)
        .replace("{attributes}", documents.attributes)
        .replace("{document}", documents.document)
    )


USAGE_SETS = f"anonymized = true, updated_at = now(), updated_by = 'bench', {_masked('customer_email')}"
USAGES_RAW = (
    f"UPDATE promotions_codeusage SET {USAGE_SETS} WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized"  # noqa: S608
)
# The same UPDATE, and the documents written by the product's own expression
# (epcc.documents.usages) in its RETURNING, as one JSON array.
USAGES_JSON = """
WITH u AS (
    UPDATE promotions_codeusage SET {usage_sets}
    WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized
    RETURNING {document} AS document
)
SELECT '[' || string_agg(document, ',') || ']' FROM u
"""


@functools.cache
def usages_json_sql() -> str:
    from epcc.documents.usages import row_document_sql

    return USAGES_JSON.replace("{usage_sets}", USAGE_SETS).replace("{document}", row_document_sql())


def _run(statements, ids: list) -> str | None:
    """The statements in one transaction; the last one's first column, when it returns one."""
    params = {"ids": uuid_array(ids), "mask": settings.PRIVACY_MASK}
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
        return cursor.fetchone()[0] if cursor.description else None


def orders_raw(ids: list) -> None:
    _run(ORDERS_RAW, ids)


def orders_json(ids: list) -> str:
    return _run([orders_json_sql()], ids)


def usages_raw(ids: list) -> None:
    _run([USAGES_RAW], ids)


def usages_json(ids: list) -> str:
    return _run([usages_json_sql()], ids)
