"""`meta.upstream` of the order and usage documents: where the record's push to the EPCC store
stands (core.upstream), `{"state": "pending" | "done" | "failed", "error": ...}`; left out when
the record was never pushed."""

from psycopg import sql

from core.models import UpstreamPush
from epcc.documents.formats import (
    member,
    optional_member,
    sql_column,
    sql_json,
    sql_json_field,
    sql_object,
    sql_table,
)

# The latest push of the record whose id is {record_id}, as JSON text; NULL when none.
LATEST_PUSH = """(
    SELECT {document}
    FROM {outbox} p
    WHERE p.{record_type} = {kind} AND p.{push_record_id} = {record_id}
    ORDER BY p.{push_id} DESC
    LIMIT 1
)"""


def sql_upstream(kind: str, record_id: sql.Composable) -> sql.Composed:
    error = sql.SQL("NULLIF({}, '')").format(sql_column("p", UpstreamPush, "error"))
    document = sql_object(
        member("state", sql_json_field("p", UpstreamPush, "state")), optional_member("error", sql_json(error))
    )
    return sql.SQL(LATEST_PUSH).format(
        document=document,
        outbox=sql_table(UpstreamPush),
        record_type=sql.Identifier(UpstreamPush._meta.get_field("record_type").column),
        push_record_id=sql.Identifier(UpstreamPush._meta.get_field("record_id").column),
        push_id=sql.Identifier(UpstreamPush._meta.pk.column),
        kind=sql.Literal(kind),
        record_id=record_id,
    )
