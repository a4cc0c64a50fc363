"""EPCC's formats as PostgreSQL expressions, for the documents PostgreSQL writes itself.

Every builder takes SQL (psycopg `sql.Composable`) and returns SQL: tables
and columns come from the models' _meta as `sql.Identifier`s, constants go in
as `sql.Literal`s, and each document module composes its statement once
(epcc.documents.orders, epcc.documents.usages). The currencies come from
core.formats.CURRENCIES, the one list of them; the admin shows money with
core.formats.format_money, which tests hold to sql_format_money.

Documents are written as JSON text by concatenation rather than with
json_build_object, for two reasons: EPCC leaves out the keys it has no value
for (an `optional_member` whose value is NULL vanishes, as concat_ws skips
NULLs), and json_build_object, called once per member, made up most of the
time of a batch of documents (docs/performance.md has the figures). Values that need no escaping (uuids,
numbers, booleans, timestamps, the known currencies) are written as they are;
free text goes through to_json.

In the templates below, `{{` and `}}` are a JSON object's braces, `{name}` a
placeholder. The text contains no '%' (but the statements' one `%s`): it goes
through cursor.execute with parameters, and through Django's RawSQL.
"""

import json

from django.db import connection, models
from psycopg import sql

from core.batches import batch_chunk_size, chunked
from core.formats import CURRENCIES

UNKNOWN_CURRENCY_EXPONENT = 2  # core.formats.format_money's default
_DIGITS = "FM9,999,999,999,999,999,990"  # a bigint's units, thousands-separated


def sql_table(model) -> sql.Identifier:
    return sql.Identifier(model._meta.db_table)


def sql_column_name(model, name: str) -> sql.Identifier:
    """A model field's column, by field name or attname."""
    return sql.Identifier(model._meta.get_field(name).column)


def sql_column(alias: "str | sql.Composable", model, name: str) -> sql.Composed:
    """`alias."column"` of a model's field, by field name or attname.

    `alias` is the table's alias as the statement's template writes it (a
    name of our own, such as "o"), or the table's Identifier itself.
    """
    qualifier = sql.SQL(alias) if isinstance(alias, str) else alias
    return sql.SQL("{}.{}").format(qualifier, sql_column_name(model, name))


# --- JSON text ----------------------------------------------------------------------------------


def sql_json_constant(value) -> sql.Literal:
    """A Python constant as JSON text."""
    return sql.Literal(json.dumps(value, ensure_ascii=False))


def sql_json(expression: sql.Composable) -> sql.Composed:
    """Any SQL value as JSON text, escaped by to_json; NULL stays NULL."""
    return sql.SQL("to_json({})::text").format(expression)


def sql_json_quoted(expression: sql.Composable) -> sql.Composed:
    """Text that needs no escaping (a uuid, a timestamp) as a JSON string; NULL stays NULL."""
    return sql.SQL("""'"' || {} || '"'""").format(expression)


def sql_json_field(alias: "str | sql.Composable", model, name: str) -> sql.Composed:
    """A model field's column as JSON text, written without to_json where its type allows."""
    field = model._meta.get_field(name)
    column = sql_column(alias, model, name)
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        return sql_json_quoted(column)
    if isinstance(target, models.IntegerField):  # small, big, positive, auto
        return sql.SQL("{}::text").format(column)
    if isinstance(target, models.BooleanField):
        return sql.SQL("CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END").format(
            column=column
        )
    return sql_json(column)


def _key(key: str) -> sql.Literal:
    """`"key":` as a constant."""
    return sql.Literal(json.dumps(key) + ":")


def member(key: str, value: sql.Composable) -> sql.Composed:
    """`"key":value`, always there: a NULL value is written as null. `value` is JSON text."""
    return sql.SQL("{key} || COALESCE({value}, 'null')").format(key=_key(key), value=value)


def optional_member(key: str, value: sql.Composable) -> sql.Composed:
    """`"key":value`, left out when the value is NULL. `value` is JSON text."""
    return sql.SQL("{key} || {value}").format(key=_key(key), value=value)


def sql_object(*members: sql.Composable, omit_empty: bool = False) -> sql.Composed:
    """A JSON object's text from `member`s and `optional_member`s, in their order.

    omit_empty: NULL rather than '{}' when every member was left out.
    """
    body = sql.SQL("concat_ws(',', {})").format(sql.SQL(", ").join(members))
    if omit_empty:
        body = sql.SQL("NULLIF({}, '')").format(body)
    return sql.SQL("'{{' || {} || '}}'").format(body)


# --- Formats ------------------------------------------------------------------------------------

# EPCC's timestamp of {utc}, the time in UTC: no fraction when it has none.
TIMESTAMP = (
    "CASE WHEN date_trunc('second', {utc}) = {utc}"
    """ THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
    """ ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END"""
)

# A non-negative amount of {units} (minor units) with an {exponent} of 2 as '1,234.56'.
NUMBER = "to_char({units} / {scale}, {digits}) || '.' || lpad(mod({units}, {scale})::text, {exponent}, '0')"
# With an exponent of 0 as '1,234'.
WHOLE_NUMBER = "to_char({units}, {digits})"

SIGN = "CASE WHEN {amount} < 0 THEN '-' ELSE '' END"

# core.formats.format_money: {known} holds a `WHEN code THEN symbol || number` per known currency.
FORMAT_MONEY = "{sign} || CASE {currency} {known} ELSE {number} || ' ' || {currency} END"

# EPCC's money object: {known} holds a MONEY_OF_KNOWN_CURRENCY per currency of CURRENCIES.
MONEY = "CASE {currency} {known} ELSE {money_of_unknown_currency} END"
# A known currency: its code and symbol are JSON constants, in {currency_then_formatted} and {symbol}.
MONEY_OF_KNOWN_CURRENCY = (
    """WHEN {code} THEN '{{"amount":' || {amount} || {currency_then_formatted}"""
    """ || {sign} || {symbol} || {number} || '"}}'"""
)
# Any other currency goes through to_json, and so does its formatted amount.
MONEY_OF_UNKNOWN_CURRENCY = (
    """'{{"amount":' || {amount} || ',"currency":' || {currency}"""
    """ || ',"formatted":' || {formatted} || '}}'"""
)


def sql_timestamp(column: sql.Composable) -> sql.Composed:
    """EPCC's timestamp: 'YYYY-MM-DDTHH:MM:SS[.mmm]Z' in UTC, no fraction when it has none; NULL stays."""
    return sql.SQL(TIMESTAMP).format(utc=sql.SQL("({} AT TIME ZONE 'UTC')").format(column))


def _number(units: sql.Composable, exponent: int) -> sql.Composed:
    """A non-negative amount in minor units as '1,234.56' (exponent 2) or '1,234' (exponent 0)."""
    if not exponent:
        return sql.SQL(WHOLE_NUMBER).format(units=units, digits=sql.Literal(_DIGITS))
    return sql.SQL(NUMBER).format(
        units=units,
        scale=sql.Literal(10**exponent),
        digits=sql.Literal(_DIGITS),
        exponent=sql.Literal(exponent),
    )


def _sign(amount: sql.Composable) -> sql.Composed:
    return sql.SQL(SIGN).format(amount=amount)


def _units(amount: sql.Composable) -> sql.Composed:
    return sql.SQL("abs({})").format(amount)


def sql_format_money(amount: sql.Composable, currency: sql.Composable) -> sql.Composed:
    """core.formats.format_money: '-£1,234.56', '¥1,234', '1,234.56 CHF' for a currency not in CURRENCIES."""
    units = _units(amount)
    known = sql.SQL(" ").join(
        sql.SQL("WHEN {code} THEN {symbol} || {number}").format(
            code=sql.Literal(code), symbol=sql.Literal(symbol), number=_number(units, exponent)
        )
        for code, (symbol, exponent) in CURRENCIES.items()
    )
    return sql.SQL(FORMAT_MONEY).format(
        sign=_sign(amount),
        currency=currency,
        known=known,
        number=_number(units, UNKNOWN_CURRENCY_EXPONENT),
    )


def sql_money(amount: sql.Composable, currency: sql.Composable) -> sql.Composed:
    """EPCC's money as JSON text: {"amount", "currency", "formatted"} (formatted as by sql_format_money).

    A known currency's code and symbol are JSON constants; only an unknown
    currency goes through to_json.
    """
    units = _units(amount)
    known = sql.SQL(" ").join(
        sql.SQL(MONEY_OF_KNOWN_CURRENCY).format(
            code=sql.Literal(code),
            amount=amount,
            currency_then_formatted=sql.Literal(f',"currency":{json.dumps(code)},"formatted":"'),
            sign=_sign(amount),
            symbol=sql.Literal(json.dumps(symbol, ensure_ascii=False)[1:-1]),
            number=_number(units, exponent),
        )
        for code, (symbol, exponent) in CURRENCIES.items()
    )
    unknown = sql.SQL(MONEY_OF_UNKNOWN_CURRENCY).format(
        amount=amount, currency=sql_json(currency), formatted=sql_json(sql_format_money(amount, currency))
    )
    return sql.SQL(MONEY).format(currency=currency, known=known, money_of_unknown_currency=unknown)


# --- Documents of a list of ids -----------------------------------------------------------------


def fetch_documents(statement: str, ids: list) -> list:
    """Runs a documents statement over the ids (repeats dropped), one statement per chunk.

    The statement (composed text) selects the documents of the ids in its
    one parameter, a uuid[], in their order. Each row's one column, or each
    row whole for a statement that selects (id, document).
    """
    unique = [str(pk) for pk in dict.fromkeys(ids)]
    rows: list = []
    with connection.cursor() as cursor:
        for chunk in chunked(unique, batch_chunk_size()):
            cursor.execute(statement, [chunk])
            rows.extend(row if len(row) > 1 else row[0] for row in cursor.fetchall())
    return rows
