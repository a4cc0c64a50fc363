"""The mask and the rule of what it replaces (a value neither NULL nor empty).

The same rule three ways: as SQL for the masking statements
(orders.masking_sql, promotions.masking_sql: `sql_masked`, `sql_has_value`),
as ORM annotations for the reviews (`has_value`, `value_flags`), and for a
value already in memory (`mask_python`). Tests hold them together.
"""

from django.conf import settings
from django.db.models import BooleanField, Case, Q, Value, When
from psycopg import sql


def mask() -> str:
    return settings.PRIVACY_MASK


def sql_masked(columns: list[sql.Identifier]) -> sql.Composable:
    """`column = the mask (the parameter %(mask)s) where it holds a value, else as it is`, per column."""
    return sql.SQL(", ").join(
        sql.SQL("{column} = CASE WHEN {column} <> '' THEN %(mask)s ELSE {column} END").format(column=column)
        for column in columns
    )


def sql_has_value(columns: list[sql.Identifier], names: list[str] | None = None) -> sql.Composable:
    """Per column, true when it holds a value (neither NULL nor ''), else false; `AS` each of `names`."""
    flags = [sql.SQL("coalesce({} <> '', false)").format(column) for column in columns]
    if names is not None:
        flags = [
            sql.SQL("{} AS {}").format(flag, sql.Identifier(name))
            for flag, name in zip(flags, names, strict=True)
        ]
    return sql.SQL(", ").join(flags)


def has_value(field: str) -> Q:
    """A personal field counts as set when it is neither NULL nor empty."""
    return Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})


def value_flags(fields) -> dict:
    """Annotations telling, per field, whether it holds a value.

    Lets a service learn which fields it changes without reading a personal value.
    """
    return {
        f"has_{name}": Case(
            When(has_value(name), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
        for name in fields
    }


def mask_python(value):
    """The same rule for a value already in memory (previews, exports)."""
    if value is None or value == "":
        return value
    return mask()
