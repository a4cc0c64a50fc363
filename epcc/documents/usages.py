"""Code usages in EPCC's document shape (seeds 000 and 001): the one builder of the usage document.

PostgreSQL writes each document as JSON text: one SELECT per chunk of ids,
a list page's own query (`usage_documents`), or the masking UPDATE's
RETURNING (`usage_document`). A caller that needs a dict parses the text
(`usages_documents`).
"""

import json
import uuid
from functools import cache

from django.db.models.expressions import RawSQL
from psycopg import sql

from core.models import RecordType
from epcc.documents.formats import (
    fetch_documents,
    member,
    optional_member,
    sql_column,
    sql_column_name,
    sql_json,
    sql_json_field,
    sql_json_quoted,
    sql_object,
    sql_table,
    sql_timestamp,
)
from epcc.documents.upstream import sql_upstream
from promotions.models import CodeUsage

# The documents of the usages whose ids are the one parameter (a uuid[]), in
# the ids' order; an unknown id gives no row. {columns}: the document of the
# usage `u`, after request.id when the rows are (id, document).
USAGE_DOCUMENTS = """
SELECT {columns}
FROM unnest(%s::uuid[]) WITH ORDINALITY AS request(id, position)
JOIN {usage} u ON u.{usage_id} = request.id
ORDER BY request.position
"""


def _document(usage: "str | sql.Composable") -> sql.Composed:
    """The document (JSON text) of the usage row `usage` names: an alias, or the table itself."""

    def column(name: str) -> sql.Composed:
        return sql_column(usage, CodeUsage, name)

    def field(name: str) -> sql.Composed:
        return sql_json_field(usage, CodeUsage, name)

    updated_at = sql_json_quoted(sql_timestamp(column("updated_at")))
    return sql_object(
        member("id", field("id")),
        member("order_id", field("order_id")),
        member("code_id", field("promotion_code")),
        member("code", field("code")),
        member("times_used", field("times_used")),
        member("used_on", sql_json_quoted(sql_timestamp(column("used_on")))),
        optional_member("customer_id", field("customer_id")),
        member("customer_email", field("customer_email")),
        member(
            "meta",
            sql_object(
                member("timestamps", sql_object(member("updated_at", updated_at))),
                optional_member("upstream", sql_upstream(RecordType.CODE_USAGE, column("id"))),
            ),
        ),
        # An empty updated_by is left out as well as a missing one.
        optional_member("updated_by", sql_json(sql.SQL("NULLIF({}, '')").format(column("updated_by")))),
        member("anonymized", field("anonymized")),
        optional_member("account_id", field("account_id")),
    )


@cache
def documents_sql(with_id: bool = False) -> str:
    """USAGE_DOCUMENTS composed with the model's table and columns (once per `with_id`)."""
    document = _document("u")
    return (
        sql.SQL(USAGE_DOCUMENTS)
        .format(
            columns=sql.SQL(", ").join([sql.SQL("request.id"), document] if with_id else [document]),
            usage=sql_table(CodeUsage),
            usage_id=sql_column_name(CodeUsage, CodeUsage._meta.pk.name),
        )
        .as_string()
    )


@cache
def row_document_sql() -> str:
    """The document of a row of the CodeUsage table, its columns named by the table (composed once)."""
    return _document(sql_table(CodeUsage)).as_string()


def usage_document() -> sql.SQL:
    """A usage row's document (JSON text) as an SQL expression over the CodeUsage table.

    Given to usages_anonymize as `returning`, the masking UPDATE writes the
    documents of the usages it changes, as they are after the change.
    """
    return sql.SQL(row_document_sql())


def usage_documents(queryset):
    """The queryset's rows as their documents (JSON text), in its order: one query, no Python per row.

    For a page of a list: the page query itself writes the documents, so the
    rows are read once, in the sort index's order.
    """
    document = RawSQL(row_document_sql(), ())  # noqa: S611 (composed from _meta and constants, not input)
    return queryset.annotate(epcc_document=document).values_list("epcc_document", flat=True)


def usages_epcc_json(usage_ids: list, written: dict | None = None) -> list[str]:
    """The JSON text of each existing usage's EPCC document, in the order of usage_ids.

    Unknown ids are skipped, repeated ones answered once. `written` (UUID ->
    text) holds documents already at hand, such as those the anonymizing
    UPDATE returned; only the others are read.
    """
    if not written:
        return fetch_documents(documents_sql(), usage_ids)
    order = list(dict.fromkeys(pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk)) for pk in usage_ids))
    rest = [pk for pk in order if pk not in written]
    read = dict(fetch_documents(documents_sql(with_id=True), rest)) if rest else {}
    return [text for pk in order if (text := written.get(pk) or read.get(pk)) is not None]


def usages_documents(usage_ids: list) -> list[dict]:
    """Each existing usage's EPCC document as a dict, in the order of usage_ids (see usages_epcc_json)."""
    return [json.loads(text) for text in usages_epcc_json(usage_ids)]
