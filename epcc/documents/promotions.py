"""Rule promotions and their codes in EPCC's document shape (GET /v2/rule-promotions,
GET /v2/rule-promotions/{id}/codes): the one builder of each document.

As for orders and usages, PostgreSQL writes each document as JSON text: a list page's
own query (`promotion_documents`, `code_documents`) or one SELECT per chunk of ids for
a deep page (`promotions_epcc_json`, `codes_epcc_json`). This project holds a
promotion's name, its codes and when each was made; EPCC's rule, dates and limits are
not mirrored, so they are left out of the documents (EPCC leaves out what it has no
value for, too).
"""

from functools import cache

from django.db.models.expressions import RawSQL
from psycopg import sql

from epcc.documents.formats import (
    fetch_documents,
    member,
    sql_column,
    sql_column_name,
    sql_json_constant,
    sql_json_field,
    sql_json_quoted,
    sql_object,
    sql_table,
    sql_timestamp,
)
from promotions.models import Promotion, PromotionCode

# The documents of the rows whose ids are the one parameter (a uuid[]), in the ids'
# order; an unknown id gives no row.
DOCUMENTS_BY_ID = """
SELECT {document}
FROM unnest(%s::uuid[]) WITH ORDINALITY AS request(id, position)
JOIN {table} ON {table}.{id} = request.id
ORDER BY request.position
"""


def _promotion(row: sql.Composable) -> sql.Composed:
    created_at = sql_json_quoted(sql_timestamp(sql_column(row, Promotion, "created_at")))
    # Promotions keep no change time of their own: they change here only when created.
    timestamps = sql_object(member("created_at", created_at), member("updated_at", created_at))
    return sql_object(
        member("type", sql_json_constant("rule_promotion")),
        member("id", sql_json_field(row, Promotion, "id")),
        member("name", sql_json_field(row, Promotion, "name")),
        member("meta", sql_object(member("timestamps", timestamps))),
    )


def _code(row: sql.Composable) -> sql.Composed:
    created_at = sql_json_quoted(sql_timestamp(sql_column(row, PromotionCode, "created_at")))
    return sql_object(
        member("type", sql_json_constant("promotion_code")),
        member("id", sql_json_field(row, PromotionCode, "id")),
        member("code", sql_json_field(row, PromotionCode, "code")),
        member("meta", sql_object(member("timestamps", sql_object(member("created_at", created_at))))),
    )


BUILDERS = {Promotion: _promotion, PromotionCode: _code}


@cache
def _row_document_sql(model) -> str:
    return BUILDERS[model](sql_table(model)).as_string()


@cache
def _documents_sql(model) -> str:
    table = sql_table(model)
    return (
        sql.SQL(DOCUMENTS_BY_ID)
        .format(document=BUILDERS[model](table), table=table, id=sql_column_name(model, "id"))
        .as_string()
    )


def page_documents(queryset):
    """A page of promotions or codes as their documents (JSON text), in its order: one query."""
    document = RawSQL(_row_document_sql(queryset.model), ())  # noqa: S611 (composed from _meta)
    return queryset.annotate(epcc_document=document).values_list("epcc_document", flat=True)


def promotions_epcc_json(promotion_ids: list) -> list[str]:
    return fetch_documents(_documents_sql(Promotion), promotion_ids)


def codes_epcc_json(code_ids: list) -> list[str]:
    return fetch_documents(_documents_sql(PromotionCode), code_ids)
