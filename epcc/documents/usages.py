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

from epcc.documents.formats import (
    fetch_documents,
    member,
    optional_member,
    sql_column,
    sql_documents,
    sql_json,
    sql_json_field,
    sql_json_quoted,
    sql_object,
    sql_table,
    sql_timestamp,
)
from promotions.models import CodeUsage


@cache
def document_sql(alias: str = "u") -> str:
    """The document (JSON text) of the usage row `alias` names."""

    def _usage(name: str) -> str:
        return sql_column(alias, CodeUsage, name)

    def _field(name: str) -> str:
        return sql_json_field(alias, CodeUsage, name)

    updated_at = sql_json_quoted(sql_timestamp(_usage("updated_at")))
    document = sql_object(
        member("id", _field("id")),
        member("order_id", _field("order_id")),
        member("code_id", _field("promotion_code")),
        member("code", _field("code")),
        member("times_used", _field("times_used")),
        member("used_on", sql_json_quoted(sql_timestamp(_usage("used_on")))),
        optional_member("customer_id", _field("customer_id")),
        member("customer_email", _field("customer_email")),
        member("meta", sql_object(member("timestamps", sql_object(member("updated_at", updated_at))))),
        # An empty updated_by is left out as well as a missing one.
        optional_member("updated_by", sql_json(f"NULLIF({_usage('updated_by')}, '')")),
        member("anonymized", _field("anonymized")),
        optional_member("account_id", _field("account_id")),
    )
    return document


@cache
def documents_sql(with_id: bool = False) -> str:
    """The SELECT of the documents of the ids in its one parameter (a uuid[]), in their order."""
    return sql_documents(document_sql("u"), model=CodeUsage, alias="u", with_id=with_id)


def usage_document() -> sql.SQL:
    """A usage row's document (JSON text) as an SQL expression over the CodeUsage table.

    Given to usages_anonymize as `returning`, the masking UPDATE writes the
    documents of the usages it changes, as they are after the change.
    """
    return sql.SQL(document_sql(sql_table(CodeUsage)))


def usage_documents(queryset):
    """The queryset's rows as their documents (JSON text), in its order: one query, no Python per row.

    For a page of a list: the page query itself writes the documents, so the
    rows are read once, in the sort index's order.
    """
    document = RawSQL(document_sql(sql_table(CodeUsage)), ())  # noqa: S611 (from _meta, not input)
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
