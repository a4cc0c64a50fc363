"""The statement that locks and masks a chunk of promotion code usages, as one SQL text.

It locks the usages in primary-key order and UPDATEs those not yet
anonymized: the mask where a personal field holds a value (neither NULL nor
''), `anonymized`, the time and who did it. A caller may have it return an
expression per changed row, such as the usage's EPCC document
(epcc.documents.usages), written from the row as it is after the change, so
nothing reads the rows again. Tables and columns come from the model's
_meta; the mask, the time, the actor and the ids are parameters.
"""

import functools
import uuid
from datetime import datetime

from django.db import connection
from psycopg import sql

from core.lookups import Ids
from core.masking import sql_has_value, sql_masked
from core.sql import column, table
from promotions.models import USAGE_PERSONAL_FIELDS, CodeUsage

# Locks the usages in primary-key order, masks those not yet anonymized, and
# answers a row per usage found: (id, anonymized before, a has-value flag per
# USAGE_PERSONAL_FIELDS before, the `returning` value or NULL when unchanged).
# One statement: a usage may always be anonymized, so nothing is checked
# between the lock and the UPDATE; an unknown id is simply not answered (the
# service then refuses the batch and its transaction rolls back).
LOCK_AND_MASK_USAGES = """
WITH locked AS (
    SELECT {usage_id} AS id, {anonymized} AS anonymized_before, {has_values}
    FROM {usage}
    WHERE {usage_id} = ANY(%(usage_ids)s::uuid[])
    ORDER BY {usage_id}
    FOR UPDATE
),
masked AS (
    UPDATE {usage} SET {anonymized} = true, {updated_at} = %(now)s, {updated_by} = %(updated_by)s, {masks}
    FROM locked
    WHERE {usage}.{usage_id} = locked.id AND NOT locked.anonymized_before
    RETURNING {usage}.{usage_id} AS id, {returning} AS returned
)
SELECT locked.*, masked.returned
FROM locked
LEFT JOIN masked ON masked.id = locked.id
"""


def lock_and_mask_usages(
    usage_ids: list[uuid.UUID],
    *,
    now: datetime,
    mask: str,
    updated_by: str,
    returning: "str | sql.Composable | None" = None,
) -> list[tuple]:
    """LOCK_AND_MASK_USAGES over these usages (in key order); its rows (see above)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _lock_and_mask_usages_sql(_returning_expression(returning).as_string()),
            {
                "usage_ids": Ids(usage_ids).array_literal(),
                "now": now,
                "mask": mask,
                "updated_by": updated_by,
            },
        )
        return cursor.fetchall()


def _returning_expression(returning: "str | sql.Composable | None") -> sql.Composable:
    if returning is None:
        return sql.SQL("NULL")
    return (
        sql.SQL("{}.{}").format(table(CodeUsage), column(CodeUsage, returning))
        if isinstance(returning, str)
        else returning
    )


@functools.cache
def _lock_and_mask_usages_sql(returning: str) -> str:
    """LOCK_AND_MASK_USAGES composed (once per `returning` expression)."""
    personal = [column(CodeUsage, name) for name in USAGE_PERSONAL_FIELDS]
    return (
        sql.SQL(LOCK_AND_MASK_USAGES)
        .format(
            usage=table(CodeUsage),
            usage_id=column(CodeUsage, "pk"),
            anonymized=column(CodeUsage, "anonymized"),
            updated_at=column(CodeUsage, "updated_at"),
            updated_by=column(CodeUsage, "updated_by"),
            masks=sql_masked(personal),
            has_values=sql_has_value(personal, [f"has_{name}" for name in USAGE_PERSONAL_FIELDS]),
            returning=sql.SQL(returning),
        )
        .as_string()
    )
