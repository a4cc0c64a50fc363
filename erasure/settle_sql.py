"""ITEMS_SETTLE: what became of a chunk of erasure request items, in one UPDATE.

Each item's new state, wait reason and batch arrive as one JSON parameter
(one element per item); PostgreSQL writes them all in one statement, however
many distinct reasons they carry.
"""

import functools
import json

from django.db import connection
from psycopg import sql

from core.sql import column, table
from erasure.models import ErasureRequestItem

ITEMS_SETTLE = """
UPDATE {item} AS item
SET {state} = settled.state,
    {wait_reason} = settled.wait_reason,
    {waiting_until} = settled.waiting_until,
    {reason} = settled.reason,
    {batch_id} = COALESCE(settled.batch_id, item.{batch_id}),
    {anonymized_at} = CASE WHEN settled.state = 'anonymized' THEN %(now)s ELSE item.{anonymized_at} END,
    {excluded_at} = CASE WHEN settled.state = 'excluded' THEN %(now)s ELSE item.{excluded_at} END,
    {updated_at} = %(now)s
FROM jsonb_to_recordset(%(settled)s::jsonb) AS settled(
    id uuid, state text, wait_reason text, waiting_until date, reason text, batch_id uuid
)
WHERE item.{id} = settled.id
  AND (item.{state}, item.{wait_reason}, item.{reason}, item.{waiting_until})
      IS DISTINCT FROM (settled.state, settled.wait_reason, settled.reason, settled.waiting_until)
"""


@functools.cache
def _items_settle_sql() -> str:
    names = ("state", "wait_reason", "waiting_until", "reason", "batch_id", "anonymized_at", "excluded_at")
    return (
        sql.SQL(ITEMS_SETTLE)
        .format(
            item=table(ErasureRequestItem),
            id=column(ErasureRequestItem, "pk"),
            updated_at=column(ErasureRequestItem, "updated_at"),
            **{name: column(ErasureRequestItem, name) for name in names},
        )
        .as_string()
    )


def items_settle(settled: list[dict], *, now) -> int:
    """Write each item's outcome ({"id", "state", "wait_reason", "waiting_until", "reason", "batch_id"}).

    Items whose state and reason are already these are left alone; returns how many changed.
    """
    if not settled:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_items_settle_sql(), {"settled": json.dumps(settled, default=str), "now": now})
        return cursor.rowcount
