"""Helpers every anonymizing service shares: id lists and chunking."""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from core.errors import Problem

# Ids per statement where each id is its own bind parameter (an IN list):
# keeps every statement under PostgreSQL's 65535 bind parameters, whatever
# the size of a batch.
CHUNK_SIZE = 5000
# Ids per statement where every statement sends its ids as one array parameter
# (`__in_array`): no parameter limit applies, and fewer, larger statements
# anonymize 100,000 orders about a fifth faster.
ARRAY_CHUNK_SIZE = 50_000


def batch_chunk_size() -> int:
    """Ids per anonymizing statement: ARRAY_CHUNK_SIZE, read on each call (tests lower it)."""
    return ARRAY_CHUNK_SIZE


def update_returning_sql(queryset, values: dict, returning: list) -> tuple[str, list]:
    """The SQL and parameters of `queryset.update(**values)` with `RETURNING returning`.

    `returning` lists field names and expressions (e.g. core.masking's
    value_flags), compiled by Django like the SET clause, so no rule is
    written again as SQL text. ("", []) when the queryset can match nothing.
    """
    from django.db import connections
    from django.db.models.sql import UpdateQuery

    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(queryset.db)
    compiler.pre_sql_setup()
    sql, params = compiler.as_sql()
    if not sql:
        return "", []
    connection = connections[queryset.db]
    columns, params = [], list(params)
    for item in returning:
        if isinstance(item, str):
            columns.append(connection.ops.quote_name(queryset.model._meta.get_field(item).column))
        else:
            item_sql, item_params = compiler.compile(item.resolve_expression(query, allow_joins=False))
            columns.append(item_sql)
            params.extend(item_params)
    return f"{sql} RETURNING {', '.join(columns)}", params


@dataclass(frozen=True)
class StatementTemplate:
    """A statement Django compiles once, its values put in on each use.

    Compiling the three masking UPDATEs cost ~16 ms of Python per batch of
    1,000 orders, a sixth of what PostgreSQL spends running them. `compile`
    builds the statement from marker values and notes where each marker's
    parameter sits; `render` puts the real values there. A marker must be a
    value no real call passes (its type and value are matched), and must
    appear among the parameters (compile raises otherwise). Tests hold
    rendered statements equal to freshly compiled ones.
    """

    sql: str
    params: tuple
    positions: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def compile(cls, build, **markers) -> "StatementTemplate":
        """`build(**values) -> (sql, params)`; each marker is (value given to build, its parameter)."""
        sql, params = build(**{name: given for name, (given, _) in markers.items()})
        positions = []
        for name, (_, param) in markers.items():
            found = tuple(i for i, p in enumerate(params) if type(p) is type(param) and p == param)
            if not found:
                raise ValueError(f"marker {name!r} is not among the statement's parameters")
            positions.append((name, found))
        return cls(sql, tuple(params), tuple(positions))

    def render(self, **params) -> tuple[str, list]:
        """The SQL and its parameters, each marker's replaced by `params[name]`."""
        values = list(self.params)
        for name, found in self.positions:
            for i in found:
                values[i] = params[name]
        return self.sql, values


def update_returning(queryset, values: dict, returning: list) -> list[tuple]:
    """`queryset.update(**values)` that also hands back, per updated row, `returning`.

    One statement, UPDATE ... RETURNING: a masking
    UPDATE tells which fields held a value, and nothing reads the rows again.
    """
    from django.db import connections

    sql, params = update_returning_sql(queryset, values, returning)
    if not sql:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def unique_uuids(ids: Iterable) -> list[uuid.UUID]:
    """The ids as UUIDs, first occurrence kept, request order kept.

    Raises ValueError on anything that is not a UUID.
    """
    seen: dict[uuid.UUID, None] = {}
    for raw in ids:
        value = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        seen.setdefault(value, None)
    return list(seen)


def in_key_order(ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The UUIDs sorted as PostgreSQL orders uuid keys (and as UUID compares).

    By their integer: UUID's own comparison is Python code, and sorting
    100,000 of them took 0.4 s; this takes 0.07 s.
    """
    return sorted(ids, key=_as_int)


def _as_int(value: uuid.UUID) -> int:
    return value.int


def chunked(ids: list, size: int = CHUNK_SIZE) -> Iterator[list]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@dataclass
class Review:
    """What anonymizing a batch would do, record by record, before anything changes."""

    requested: list[uuid.UUID]
    # id -> names of the fields the mask will change (in EPCC's dotted names)
    eligible: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    already_anonymized: list[uuid.UUID] = field(default_factory=list)
    problems: dict[uuid.UUID, Problem] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unknown(self) -> list[uuid.UUID]:
        return [pk for pk, problem in self.problems.items() if problem.code == "not_found"]

    @property
    def refused(self) -> dict[uuid.UUID, Problem]:
        return {pk: p for pk, p in self.problems.items() if p.code != "not_found"}

    def problems_in_request_order(self) -> list[Problem]:
        return [self.problems[pk] for pk in self.requested if pk in self.problems]


@dataclass
class Outcome:
    """What an anonymizing service did."""

    requested: list[uuid.UUID]
    changed: list[uuid.UUID]
    already_anonymized: list[uuid.UUID]
    batch_id: uuid.UUID | None = None
    # changed id -> what the service's `returning` expression gave for that row
    returned: dict = field(default_factory=dict)
