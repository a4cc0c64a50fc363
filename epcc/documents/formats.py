"""EPCC's formats as PostgreSQL expressions, for the documents PostgreSQL writes itself.

Every builder takes SQL text and returns SQL text. The currencies come from
core.formats.CURRENCIES, the one list of them; the admin shows money with
core.formats.format_money, which tests hold to sql_format_money.

Documents are written as JSON text by concatenation rather than with
json_build_object, for two reasons: EPCC leaves out the keys it has no value
for (an `optional_member` whose value is NULL vanishes, as concat_ws skips
NULLs), and json_build_object, called once per member, made up most of the
time of a batch of documents (docs/performance.md has the figures). Values that need no escaping (uuids,
numbers, booleans, timestamps, the known currencies) are written as they are;
free text goes through to_json.

The text contains no '%': it goes through cursor.execute with parameters.
"""

import json

from django.db import connection, models

from core.batches import batch_chunk_size, chunked
from core.formats import CURRENCIES

UNKNOWN_CURRENCY_EXPONENT = 2  # core.formats.format_money's default
_DIGITS = "FM9,999,999,999,999,999,990"  # a bigint's units, thousands-separated


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def sql_column(alias: str, model, name: str) -> str:
    """`alias."column"` of a model's field, by field name or attname."""
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


# --- JSON text ----------------------------------------------------------------------------------


def sql_json_constant(value) -> str:
    """A Python constant as JSON text."""
    return sql_literal(json.dumps(value, ensure_ascii=False))


def sql_json(expression: str) -> str:
    """Any SQL value as JSON text, escaped by to_json; NULL stays NULL."""
    return f"to_json({expression})::text"


def sql_json_quoted(expression: str) -> str:
    """Text that needs no escaping (a uuid, a timestamp) as a JSON string; NULL stays NULL."""
    return f"'\"' || {expression} || '\"'"


def sql_json_field(alias: str, model, name: str) -> str:
    """A model field's column as JSON text, written without to_json where its type allows."""
    field = model._meta.get_field(name)
    column = sql_column(alias, model, name)
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        return sql_json_quoted(column)
    if isinstance(target, models.IntegerField):  # small, big, positive, auto
        return f"{column}::text"
    if isinstance(target, models.BooleanField):
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    return sql_json(column)


def member(key: str, value: str) -> str:
    """`"key":value`, always there: a NULL value is written as null. `value` is JSON text."""
    return f"{sql_literal(json.dumps(key) + ':')} || COALESCE({value}, 'null')"


def optional_member(key: str, value: str) -> str:
    """`"key":value`, left out when the value is NULL. `value` is JSON text."""
    return f"{sql_literal(json.dumps(key) + ':')} || {value}"


def sql_object(*members: str, omit_empty: bool = False) -> str:
    """A JSON object's text from `member`s and `optional_member`s, in their order.

    omit_empty: NULL rather than '{}' when every member was left out.
    """
    body = f"concat_ws(',', {', '.join(members)})"
    if omit_empty:
        body = f"NULLIF({body}, '')"
    return f"'{{' || {body} || '}}'"


# --- Formats ------------------------------------------------------------------------------------


def sql_timestamp(column: str) -> str:
    """EPCC's timestamp: 'YYYY-MM-DDTHH:MM:SS[.mmm]Z' in UTC, no fraction when it has none; NULL stays."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {utc}) = {utc}"
        f""" THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        f""" ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END"""
    )


def _number(units: str, exponent: int) -> str:
    """A non-negative amount in minor units as '1,234.56' (exponent 2) or '1,234' (exponent 0)."""
    if not exponent:
        return f"to_char({units}, '{_DIGITS}')"
    scale = 10**exponent
    whole = f"to_char({units} / {scale}, '{_DIGITS}')"
    return f"{whole} || '.' || lpad(mod({units}, {scale})::text, {exponent}, '0')"


def _sign(amount: str) -> str:
    return f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END"


def sql_format_money(amount: str, currency: str) -> str:
    """core.formats.format_money: '-£1,234.56', '¥1,234', '1,234.56 CHF' for a currency not in CURRENCIES."""
    units = f"abs({amount})"
    known = " ".join(
        f"WHEN {sql_literal(code)} THEN {sql_literal(symbol)} || {_number(units, exponent)}"
        for code, (symbol, exponent) in CURRENCIES.items()
    )
    unknown = f"{_number(units, UNKNOWN_CURRENCY_EXPONENT)} || ' ' || {currency}"
    return f"{_sign(amount)} || CASE {currency} {known} ELSE {unknown} END"


def sql_money(amount: str, currency: str) -> str:
    """EPCC's money as JSON text: {"amount", "currency", "formatted"} (formatted as by sql_format_money).

    A known currency's code and symbol are JSON constants; only an unknown
    currency goes through to_json.
    """
    units = f"abs({amount})"
    start = f"'{{\"amount\":' || {amount} || "

    def known(code: str, symbol: str, exponent: int) -> str:
        head = sql_literal(f',"currency":{json.dumps(code)},"formatted":"')
        symbol_text = sql_literal(json.dumps(symbol, ensure_ascii=False)[1:-1])
        return (
            f"WHEN {sql_literal(code)} THEN {start}{head} || {_sign(amount)} || {symbol_text}"
            f" || {_number(units, exponent)} || '\"}}'"
        )

    branches = " ".join(known(code, symbol, exponent) for code, (symbol, exponent) in CURRENCIES.items())
    unknown = (
        f"{start}',\"currency\":' || {sql_json(currency)} || ',\"formatted\":'"
        f" || {sql_json(sql_format_money(amount, currency))} || '}}'"
    )
    return f"CASE {currency} {branches} ELSE {unknown} END"


# --- Documents of a list of ids -----------------------------------------------------------------


def sql_documents(document: str, *, model, alias: str, joins: str = "", with_id: bool = False) -> str:
    """SELECT of `document` (text) for the ids of its one parameter (a uuid[]), in their order.

    `alias` names the model's table in `document` and `joins`; unknown ids give no row.
    `with_id`: each row is (id, document).
    """
    pk = sql_column(alias, model, model._meta.pk.name)
    return (
        f"SELECT {'request.id, ' if with_id else ''}{document}"  # noqa: S608  (built from constants and models' _meta, never from input)
        f" FROM unnest(%s::uuid[]) WITH ORDINALITY AS request(id, position)"
        f" JOIN {sql_table(model)} {alias} ON {pk} = request.id {joins}"
        f" ORDER BY request.position"
    )


def fetch_documents(sql: str, ids: list) -> list:
    """Runs `sql_documents` SQL over the ids (repeats dropped), one statement per chunk.

    Each row's one column, or each row whole for SQL written `with_id`.
    """
    unique = [str(pk) for pk in dict.fromkeys(ids)]
    rows: list = []
    with connection.cursor() as cursor:
        for chunk in chunked(unique, batch_chunk_size()):
            cursor.execute(sql, [chunk])
            rows.extend(row if len(row) > 1 else row[0] for row in cursor.fetchall())
    return rows
