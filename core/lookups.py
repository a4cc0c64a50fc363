"""`field__in_array=ids`: `IN`, sent to PostgreSQL as one array parameter (`= ANY`).

`pk__in=<1000 ids>` puts 1000 placeholders in the SQL text, and psycopg 3's
client-side binding (Django's default) scans that text and quotes each id in
Python on every execution, which cost more than PostgreSQL takes to run the
statement (docs/performance.md). `= ANY(%s)` with one list parameter means the
same and skips that work.

Registered on UUIDField and ForeignKey (so `order_id__in_array` works) when
this module is imported; the anonymizing services import it.
"""

import uuid

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignKey, Lookup, UUIDField


def _canonical_uuid(value) -> str:
    """The value as a UUID's canonical text; anything that is not a UUID raises ValueError."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


class Ids:
    """Ids for `__in_array`, passed as one value.

    Django resolves a list or tuple given to a lookup element by element
    (50,000 calls for a batch of 1000 orders' five statements); this wrapper
    is taken as it is.
    """

    __slots__ = ("values", "_literal")

    def __init__(self, values):
        if isinstance(values, Ids):
            self.values, self._literal = values.values, values._literal
        else:
            self.values, self._literal = list(values), None

    def array_literal(self) -> str:
        """PostgreSQL's array syntax for these UUIDs, built once however many statements use it."""
        if self._literal is None:
            self._literal = "{" + ",".join(map(_canonical_uuid, self.values)) + "}"
        return self._literal

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


class InArray(Lookup):
    lookup_name = "in_array"
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs if isinstance(self.rhs, Ids) else list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        if isinstance(self.rhs, Ids) and field.db_type(connection) == "uuid":
            if not self.rhs.values:
                raise EmptyResultSet
            return f"{lhs} = ANY(%s::uuid[])", [*lhs_params, self.rhs.array_literal()]
        values = [field.get_db_prep_value(value, connection, prepared=False) for value in self.rhs]
        if not values:
            raise EmptyResultSet
        # One text parameter in PostgreSQL's array syntax, cast to the column's
        # array type: psycopg would otherwise dump (and regex-check) every
        # element of a list parameter in Python. The values passed the field's
        # own conversion above (a UUID field accepts nothing but UUIDs).
        literal = "{" + ",".join(str(value) for value in values) + "}"
        return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", [*lhs_params, literal]


UUIDField.register_lookup(InArray)
ForeignKey.register_lookup(InArray)
