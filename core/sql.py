"""Names for statements written with psycopg's `sql` module, read from a model's _meta.

Every hand-written statement (orders.masking_sql, promotions.masking_sql,
core.audit, core.admin_actions) is one SQL text with named placeholders; these
fill in its tables, columns and typed parameters, so no name is spelled twice.
"""

from django.db import connection
from django.db.models import CharField
from psycopg import sql


def table(model) -> sql.Identifier:
    return sql.Identifier(model._meta.db_table)


def column(model, name: str) -> sql.Identifier:
    """A field's column, by field name (`order` gives `order_id`) or `pk`."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return sql.Identifier(field.column)


def columns(model, names) -> list[sql.Identifier]:
    return [column(model, name) for name in names]


def listed(items) -> sql.Composable:
    """Composables joined by commas."""
    return sql.SQL(", ").join(items)


def typed_parameter(model, name: str) -> sql.Composable:
    """`%(name)s::type` of a field: an untyped NULL in a SELECT list would be taken as text.

    Text for a CharField, not varchar(n), which would cut a long value where
    an INSERT raises.
    """
    field = model._meta.get_field(name)
    db_type = "text" if isinstance(field, CharField) else field.db_type(connection)
    return sql.SQL("{}::{}").format(sql.Placeholder(name), sql.SQL(db_type))
