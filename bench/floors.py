"""The floors: hand-written SQL doing the same writes as the product, nothing else.

Two per write (issue 17):

- raw: the masking UPDATEs alone, one transaction per batch;
- JSON: the same UPDATEs as data-modifying CTEs, and the endpoint's documents
  written from what they return (`UPDATE ... RETURNING` + `json_agg` of
  `json_build_object`), fetched as one JSON text: what a hand-written
  endpoint would do to answer the same request, without locks, rule checks
  or audit records.

The ids go as one array parameter, the mask as a parameter, as the product
sends them.
"""

from django.conf import settings
from django.db import connection, transaction

ORDER_FIELDS = ("customer_name", "customer_email", "contact_name", "contact_email")
ADDRESS_FIELDS = (
    *("first_name", "last_name", "phone_number", "company_name", "line_1", "line_2"),
    *("city", "postcode", "county", "region", "country", "instructions"),
)
MONEY = (
    "with_tax",
    "without_tax",
    "tax",
    "discount",
    "balance_owing",
    "paid",
    "authorized",
    "without_discount",
)


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


def _address_json(alias: str) -> str:
    members = ", ".join(f"'{name}', {alias}.{name}" for name in ADDRESS_FIELDS)
    return f"CASE WHEN {alias}.id IS NOT NULL THEN json_build_object({members}) END"


# The order document: every member the endpoint answers (money as amount and
# currency; attributes masked by the UPDATE come from its RETURNING, the
# others, unchanged, from the table; the item ids from the table).
ORDERS_JSON = f"""
WITH o AS (
    UPDATE orders_order SET anonymized = true, updated_at = now(), {ORDER_SETS}
    WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized
    RETURNING *
), ad AS (
    UPDATE orders_orderaddress SET {ADDRESS_SETS} WHERE order_id = ANY(%(ids)s::uuid[])
    RETURNING *
), at AS (
    UPDATE orders_ordercustomattribute SET value = to_jsonb(%(mask)s::text)
    WHERE order_id = ANY(%(ids)s::uuid[]) AND value IS NOT NULL
      AND value <> 'null'::jsonb AND value <> '""'::jsonb
    RETURNING *
), attributes AS (
    SELECT order_id, id, name, type, value FROM at
    UNION ALL
    SELECT order_id, id, name, type, value FROM orders_ordercustomattribute
    WHERE order_id = ANY(%(ids)s::uuid[]) AND (value IS NULL OR value IN ('null'::jsonb, '""'::jsonb))
)
SELECT json_agg(json_build_object(
    'type', 'order', 'id', o.id, 'status', o.status, 'payment', o.payment, 'shipping', o.shipping,
    'anonymized', o.anonymized,
    'customer', json_build_object('name', o.customer_name, 'email', o.customer_email),
    'contact', json_build_object('name', o.contact_name, 'email', o.contact_email),
    'shipping_address', {_address_json("s")},
    'billing_address', {_address_json("b")},
    'custom_attributes', (
        SELECT json_object_agg(a.name, json_build_object('name', a.name, 'type', a.type, 'value', a.value)
                               ORDER BY a.id)
        FROM attributes a WHERE a.order_id = o.id
    ),
    'links', '{{}}'::json,
    'meta', json_build_object(
        'display_price', json_build_object({
    ", ".join(f"'{m}', json_build_object('amount', o.{m}, 'currency', o.currency)" for m in MONEY)
}),
        'timestamps', json_build_object('created_at', o.created_at, 'updated_at', o.updated_at)
    ),
    'relationships', json_build_object('items', json_build_object('data', (
        SELECT COALESCE(json_agg(json_build_object('type', 'item', 'id', i.id) ORDER BY i.position, i.id),
                        '[]'::json)
        FROM orders_orderitem i WHERE i.order_id = o.id
    )))
))::text
FROM o
LEFT JOIN ad s ON s.order_id = o.id AND s.kind = 'shipping'
LEFT JOIN ad b ON b.order_id = o.id AND b.kind = 'billing'
"""  # noqa: S608 (constants only)

USAGE_SETS = f"anonymized = true, updated_at = now(), updated_by = 'bench', {_masked('customer_email')}"
USAGES_RAW = (
    f"UPDATE promotions_codeusage SET {USAGE_SETS} WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized"  # noqa: S608
)
USAGES_JSON = f"""
WITH u AS (
    UPDATE promotions_codeusage SET {USAGE_SETS}
    WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized
    RETURNING *
)
SELECT json_agg(json_build_object(
    'id', id, 'order_id', order_id, 'code_id', promotion_code_id, 'code', code, 'times_used', times_used,
    'used_on', used_on, 'customer_id', customer_id, 'customer_email', customer_email,
    'meta', json_build_object('timestamps', json_build_object('updated_at', updated_at)),
    'updated_by', updated_by, 'anonymized', anonymized, 'account_id', account_id
))::text
FROM u
"""  # noqa: S608 (constants only)


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
    return _run([ORDERS_JSON], ids)


def usages_raw(ids: list) -> None:
    _run([USAGES_RAW], ids)


def usages_json(ids: list) -> str:
    return _run([USAGES_JSON], ids)
