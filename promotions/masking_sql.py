"""The statement that masks a chunk of promotion code usages, as one SQL text.

One UPDATE: the mask where a personal field holds a value (neither NULL nor
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
from core.masking import sql_masked
from core.sql import column, table
from promotions.models import USAGE_PERSONAL_FIELDS, CodeUsage

MASK_USAGES = """
UPDATE {usage} SET {anonymized} = true, {updated_at} = %(now)s, {updated_by} = %(updated_by)s, {masks}
WHERE {usage_id} = ANY(%(usage_ids)s::uuid[])
"""

RETURNING = """
RETURNING {usage_id}, {returning}
"""


def mask_usages(
    usage_ids: list[uuid.UUID],
    *,
    now: datetime,
    mask: str,
    updated_by: str,
    returning: "str | sql.Composable | None" = None,
) -> list[tuple]:
    """Mask these usages (locked) in one statement.

    `returning`, a field name or an SQL expression over the usage row being
    updated: (id, its value) per changed usage. Without it, nothing is returned.
    """
    statement = mask_usages_sql()
    if returning is not None:
        statement += _returning_sql(returning)
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                "usage_ids": Ids(usage_ids).array_literal(),
                "now": now,
                "mask": mask,
                "updated_by": updated_by,
            },
        )
        return cursor.fetchall() if returning is not None else []


@functools.cache
def mask_usages_sql() -> str:
    """MASK_USAGES composed with the model's table and columns (once: nothing in it varies)."""
    masks = sql_masked([column(CodeUsage, name) for name in USAGE_PERSONAL_FIELDS])
    return (
        sql.SQL(MASK_USAGES)
        .format(
            usage=table(CodeUsage),
            anonymized=column(CodeUsage, "anonymized"),
            updated_at=column(CodeUsage, "updated_at"),
            updated_by=column(CodeUsage, "updated_by"),
            masks=masks,
            usage_id=column(CodeUsage, "pk"),
        )
        .as_string()
    )


def _returning_sql(returning: "str | sql.Composable") -> str:
    expression = column(CodeUsage, returning) if isinstance(returning, str) else returning
    return sql.SQL(RETURNING).format(usage_id=column(CodeUsage, "pk"), returning=expression).as_string()
