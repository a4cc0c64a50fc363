"""EPCC's formats (core.epcc) as PostgreSQL expressions, for documents PostgreSQL writes itself.

Every builder takes SQL text and returns SQL text. Each has a Python twin in
core.epcc, and tests hold the two together; the currencies come from
core.epcc.CURRENCIES, the one list of them.

JSON objects are written as text, member by member (`sql_object`), rather
than with json_build_object, because EPCC leaves out the keys it has no value
for: an optional member whose value is NULL vanishes (concat_ws skips NULLs).
Member values are SQL expressions of JSON text: `sql_json(column)` for a
plain column, or a nested `sql_object` / json_build_object / json_agg.

The text contains no '%': it goes through cursor.execute with parameters.
"""

import json

from django.db import connection

from core.batches import batch_chunk_size, chunked
from core.epcc import CURRENCIES

UNKNOWN_CURRENCY_EXPONENT = 2  # core.epcc.format_money's default
_DIGITS = "FM9,999,999,999,999,999,990"  # a bigint's units, thousands-separated


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_column(alias: str, model, name: str) -> str:
    """`alias."column"` of a model's field, by field name or attname."""
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


def sql_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- Formats ------------------------------------------------------------------------------------


def sql_timestamp(column: str) -> str:
    """core.epcc.format_timestamp: 'YYYY-MM-DDTHH:MM:SS[.mmm]Z' in UTC; NULL stays NULL."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {utc}) = {utc}"
        f""" THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        f""" ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END"""
    )


def _number(units: str, exponent: int) -> str:
    if not exponent:
        return f"to_char({units}, '{_DIGITS}')"
    scale = 10**exponent
    return f"to_char({units} / {scale}, '{_DIGITS}') || '.' || lpad(mod({units}, {scale})::text, {exponent}, '0')"


def sql_format_money(amount: str, currency: str) -> str:
    """core.epcc.format_money: '-£1,234.56', '¥1,234', '1,234.56 CHF' for a currency not in CURRENCIES."""
    units = f"abs({amount})"
    sign = f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END"
    branches = " ".join(
        f"WHEN {sql_literal(code)} THEN {sql_literal(symbol)} || {_number(units, exponent)}"
        for code, (symbol, exponent) in CURRENCIES.items()
    )
    unknown = f"{_number(units, UNKNOWN_CURRENCY_EXPONENT)} || ' ' || {currency}"
    return f"{sign} || CASE {currency} {branches} ELSE {unknown} END"


def sql_money(amount: str, currency: str) -> str:
    """core.epcc.money, as json."""
    return (
        f"json_build_object('amount', {amount}, 'currency', {currency},"
        f" 'formatted', {sql_format_money(amount, currency)})"
    )


# --- JSON text ----------------------------------------------------------------------------------


def sql_json_constant(value) -> str:
    """A Python constant as JSON text."""
    return sql_literal(json.dumps(value))


def sql_json(expression: str) -> str:
    """A scalar SQL value as JSON text (NULL stays NULL: an optional member then vanishes)."""
    return f"to_json({expression})::text"


def member(key: str, value: str) -> str:
    """`"key": value`, always there: a NULL value is written as null."""
    return f"{sql_literal(json.dumps(key) + ':')} || COALESCE({value}, 'null')"


def optional_member(key: str, value: str) -> str:
    """`"key": value`, left out when the value is NULL."""
    return f"{sql_literal(json.dumps(key) + ':')} || {value}"


def sql_object(*members: str, omit_empty: bool = False) -> str:
    """A JSON object's text from `member`s and `optional_member`s, in their order.

    omit_empty: NULL instead of '{}' when every member was left out.
    """
    body = f"concat_ws(',', {', '.join(members)})"
    if omit_empty:
        body = f"NULLIF({body}, '')"
    return f"'{{' || {body} || '}}'"


# --- Documents of a list of ids -----------------------------------------------------------------


def sql_documents(document: str, *, model, alias: str, joins: str = "") -> str:
    """SELECT of `document` (text) for the ids of its one parameter (a uuid[]), in their order.

    `alias` names the model's table in `document` and `joins`; unknown ids give no row.
    """
    pk = sql_column(alias, model, model._meta.pk.name)
    return (
        f"SELECT {document}"  # noqa: S608  (built from constants and models' _meta, never from input)
        f" FROM unnest(%s::uuid[]) WITH ORDINALITY AS request(id, position)"
        f" JOIN {sql_table(model)} {alias} ON {pk} = request.id {joins}"
        f" ORDER BY request.position"
    )


def fetch_documents(sql: str, ids: list) -> list[str]:
    """Runs `sql_documents` SQL over the ids (repeats dropped), one statement per chunk."""
    unique = [str(pk) for pk in dict.fromkeys(ids)]
    documents: list[str] = []
    with connection.cursor() as cursor:
        for chunk in chunked(unique, batch_chunk_size()):
            cursor.execute(sql, [chunk])
            documents.extend(row[0] for row in cursor.fetchall())
    return documents
