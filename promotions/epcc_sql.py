"""Code usages' EPCC documents written by PostgreSQL as JSON text (PostgreSQL only).

The twin of promotions.epcc.usage_to_epcc for answers of many usages: one
SELECT per chunk of ids; each text, parsed, equals usage_to_epcc's document
(tests hold the two together).
"""

import uuid
from functools import cache

from core.epcc_sql import (
    fetch_documents,
    member,
    optional_member,
    sql_column,
    sql_documents,
    sql_json,
    sql_json_field,
    sql_json_quoted,
    sql_object,
    sql_timestamp,
)
from promotions.models import CodeUsage


def _usage(name: str) -> str:
    return sql_column("u", CodeUsage, name)


def _field(name: str) -> str:
    return sql_json_field("u", CodeUsage, name)


@cache
def documents_sql() -> str:
    """The SELECT of the documents of the ids in its one parameter (a uuid[]), in their order."""
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
        # usage_to_epcc leaves out an empty updated_by as well as a missing one.
        optional_member("updated_by", sql_json(f"NULLIF({_usage('updated_by')}, '')")),
        member("anonymized", _field("anonymized")),
        optional_member("account_id", _field("account_id")),
    )
    return sql_documents(document, model=CodeUsage, alias="u")


def usages_epcc_json(usage_ids: list[uuid.UUID]) -> list[str]:
    """The JSON text of each existing usage's EPCC document, in the order of usage_ids.

    Unknown ids are skipped, repeated ones answered once.
    """
    return fetch_documents(documents_sql(), usage_ids)
