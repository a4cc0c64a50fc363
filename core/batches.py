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
# anonymize large selections faster (docs/performance.md).
ARRAY_CHUNK_SIZE = 50_000


def batch_chunk_size() -> int:
    """Ids per anonymizing statement: ARRAY_CHUNK_SIZE, read on each call (tests lower it)."""
    return ARRAY_CHUNK_SIZE


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

    By their integer: UUID's own comparison is Python code, several times
    slower to sort by (docs/performance.md).
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
