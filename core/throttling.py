"""Rate counts every worker and process shares: one statement per counted request.

Each client (a scope and an identity: an API user, a token endpoint's address) has one
row of ThrottleCount: its requests in a fixed window and when that window ends. The
upsert starts the window on a client's first request, counts the next ones, and starts a
new window once the old one has ended; the database's clock decides, so every worker
agrees. A count stops at the limit + 1: the refused requests of a window change nothing.
"""

import functools
import math

from django.db import connection
from psycopg import sql

from core.models import ThrottleCount
from core.sql import column, table

THROTTLE_COUNT = """
INSERT INTO {throttle} AS counted ({key}, {window_end}, {count})
VALUES (%(key)s, statement_timestamp() + make_interval(secs => %(seconds)s), 1)
ON CONFLICT ({key}) DO UPDATE SET
    {window_end} = CASE WHEN counted.{window_end} <= statement_timestamp()
        THEN excluded.{window_end} ELSE counted.{window_end} END,
    {count} = CASE WHEN counted.{window_end} <= statement_timestamp()
        THEN 1 ELSE LEAST(counted.{count} + 1, %(limit)s + 1) END
RETURNING {count}, EXTRACT(EPOCH FROM {window_end} - statement_timestamp())::float8
"""

THROTTLE_COUNTS_PRUNE = """
DELETE FROM {throttle} WHERE {window_end} <= statement_timestamp()
"""


@functools.cache
def _statement(text: str) -> str:
    """A statement with ThrottleCount's table and columns, from its _meta."""
    names = {name: column(ThrottleCount, name) for name in ("key", "window_end", "count")}
    return sql.SQL(text).format(throttle=table(ThrottleCount), **names).as_string()


def throttle_count(*, key: str, limit: int, seconds: int) -> tuple[bool, int]:
    """Counts one request of `key`, allowed `limit` requests a window of `seconds`.

    Returns whether it is allowed, and the whole seconds until its window ends (at least 1).
    """
    with connection.cursor() as cursor:
        cursor.execute(_statement(THROTTLE_COUNT), {"key": key, "limit": limit, "seconds": seconds})
        count, left = cursor.fetchone()
    return count <= limit, max(1, math.ceil(left))


def throttle_counts_prune() -> int:
    """Deletes the counts whose window has ended (a client's next request starts a new one)."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(THROTTLE_COUNTS_PRUNE))
        return cursor.rowcount
