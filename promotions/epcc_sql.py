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
    sql_object,
    sql_timestamp,
)
from promotions.models import CodeUsage


def _usage(name: str) -> str:
    return sql_column("u", CodeUsage, name)


@cache
def documents_sql() -> str:
    """The SELECT of the documents of the ids in its one parameter (a uuid[]), in their order."""
    document = sql_object(
        member("id", sql_json(_usage("id"))),
        member("order_id", sql_json(_usage("order_id"))),
        member("code_id", sql_json(_usage("promotion_code"))),
        member("code", sql_json(_usage("code"))),
        member("times_used", sql_json(_usage("times_used"))),
        member("used_on", sql_json(sql_timestamp(_usage("used_on")))),
        optional_member("customer_id", sql_json(_usage("customer_id"))),
        member("customer_email", sql_json(_usage("customer_email"))),
        member(
            "meta",
            f"json_build_object('timestamps', json_build_object('updated_at', {sql_timestamp(_usage('updated_at'))}))",
        ),
        # usage_to_epcc leaves out an empty updated_by as well as a missing one.
        optional_member("updated_by", sql_json(f"NULLIF({_usage('updated_by')}, '')")),
        member("anonymized", sql_json(_usage("anonymized"))),
        optional_member("account_id", sql_json(_usage("account_id"))),
    )
    return sql_documents(document, model=CodeUsage, alias="u")


def usages_epcc_json(usage_ids: list[uuid.UUID]) -> list[str]:
    """The JSON text of each existing usage's EPCC document, in the order of usage_ids; unknown ids skipped."""
    return fetch_documents(documents_sql(), usage_ids)
