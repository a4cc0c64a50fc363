"""Who did what: the actor of a change and the audit records it leaves."""

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from psycopg import sql

from core.models import (
    ApiKey,
    AuditAction,
    AuditRecord,
    ErasureRequest,
    Interface,
    UpstreamPush,
    UpstreamState,
)
from core.sql import column, columns, listed, table, typed_parameter
from core.upstream import upstream_configured, upstream_push_defer


@dataclass(frozen=True)
class Actor:
    """A person or an API key; `label` is what records show (never a secret)."""

    label: str
    user: object | None = None
    api_key: ApiKey | None = None

    @classmethod
    def for_user(cls, user) -> "Actor":
        return cls(label=user.get_username(), user=user)

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> "Actor":
        return cls(label=api_key.label, user=api_key.user, api_key=api_key)

    @classmethod
    def for_request(cls, request) -> "Actor":
        """The key when the request came with one, else the logged-in user."""
        if isinstance(getattr(request, "auth", None), ApiKey):
            return cls.for_api_key(request.auth)
        return cls.for_user(request.user)

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(label=name)


@dataclass
class ChangedGroups:
    """Changed records grouped by the fields changed, as a set-based UPDATE reports them.

    `groups` holds (field names, ids of the records whose changed fields they
    are) pairs: records share a handful of field lists, so each list is sent
    once however many records it names. An id is a UUID or its text.
    """

    groups: list[tuple[tuple[str, ...], list[uuid.UUID | str]]]


# The one audit INSERT. Every record of a batch shares its values but two:
# PostgreSQL gets each distinct list of fields once, with the ids it applies
# to, in one JSON parameter, and writes the records in the groups' order.
# Building model instances and their VALUES list (a bulk_create) cost more
# than the insert itself; so did a JSON document of every record's field
# names (docs/performance.md).
AUDIT_RECORDS_INSERT = """
INSERT INTO {audit_record} ({shared_columns}, {record_id}, {fields})
SELECT {shared_values}, changed.id::uuid, changed_group.value -> 'fields'
FROM jsonb_array_elements(%(groups)s::jsonb) WITH ORDINALITY AS changed_group(value, number)
CROSS JOIN LATERAL jsonb_array_elements_text(changed_group.value -> 'ids')
    WITH ORDINALITY AS changed(id, number)
ORDER BY changed_group.number, changed.number
"""

# With a store configured (core.upstream), an anonymization's audit INSERT also writes its
# outbox rows, one per record, in the same statement: the pushes to the store commit or roll
# back with the change itself, and the audit rows are read back from RETURNING, not the table.
AUDIT_RECORDS_INSERT_WITH_OUTBOX = """
WITH audit AS ({audit_insert} RETURNING {record_type}, {record_id}, {batch_id}, {at})
INSERT INTO {outbox} ({outbox_columns})
SELECT audit.{record_type}, audit.{record_id}, audit.{batch_id}, {pending}, 0, '', audit.{at}, audit.{at}
FROM audit
"""
OUTBOX_COLUMNS = ("record_type", "record_id", "batch_id", "state", "attempts", "error", "created_at")

# The columns every record of one batch shares, each a parameter of that name.
SHARED_FIELDS = (
    "at",
    "action",
    "actor",
    "actor_user",
    "actor_key",
    "interface",
    "record_type",
    "batch_id",
    "erasure_request",
    "note",
)


def audit_records_create(
    *,
    actor: Actor,
    via: Interface,
    record_type: str,
    changed_fields: "dict | ChangedGroups",
    at: datetime,
    action: str = AuditAction.ANONYMIZE,
    erasure_request: ErasureRequest | None = None,
    note: str = "",
) -> uuid.UUID:
    """One record per changed record, in one INSERT; returns the batch id.

    `changed_fields` maps a record id to the names of the fields changed, or
    is a ChangedGroups. Each record's names are stored sorted.
    """
    batch_id = uuid.uuid4()
    groups = (
        changed_fields.groups if isinstance(changed_fields, ChangedGroups) else _groups_of(changed_fields)
    )
    document = [{"fields": sorted(fields), "ids": [str(pk) for pk in ids]} for fields, ids in groups]
    outbox = action == AuditAction.ANONYMIZE and upstream_configured()
    with connection.cursor() as cursor:
        cursor.execute(
            _audit_records_insert_sql(outbox),
            {
                "at": at,
                "action": action,
                "actor": actor.label,
                "actor_user": actor.user.pk if getattr(actor.user, "pk", None) else None,
                "actor_key": actor.api_key.pk if actor.api_key else None,
                "interface": via,
                "record_type": record_type,
                "batch_id": batch_id,
                "erasure_request": erasure_request.pk if erasure_request else None,
                "note": note,
                "groups": json.dumps(document),
            },
        )
        pushes = cursor.rowcount if outbox else 0
    if pushes:
        transaction.on_commit(upstream_push_defer)
    return batch_id


def _groups_of(changed_fields: dict) -> list[tuple[tuple[str, ...], list]]:
    by_fields: dict[tuple[str, ...], list] = {}
    for record_id, fields in changed_fields.items():
        by_fields.setdefault(tuple(sorted(fields)), []).append(record_id)
    return list(by_fields.items())


@functools.cache
def _audit_records_insert_sql(with_outbox: bool = False) -> str:
    """AUDIT_RECORDS_INSERT with AuditRecord's table and columns, from its _meta; with the
    outbox rows of its records (AUDIT_RECORDS_INSERT_WITH_OUTBOX) when asked."""
    audit_insert = sql.SQL(AUDIT_RECORDS_INSERT).format(
        audit_record=table(AuditRecord),
        shared_columns=listed(columns(AuditRecord, SHARED_FIELDS)),
        record_id=column(AuditRecord, "record_id"),
        fields=column(AuditRecord, "fields"),
        shared_values=listed(typed_parameter(AuditRecord, name) for name in SHARED_FIELDS),
    )
    if not with_outbox:
        return audit_insert.as_string()
    return (
        sql.SQL(AUDIT_RECORDS_INSERT_WITH_OUTBOX)
        .format(
            audit_insert=audit_insert,
            outbox=table(UpstreamPush),
            outbox_columns=listed(columns(UpstreamPush, (*OUTBOX_COLUMNS, "next_attempt_at"))),
            pending=sql.Literal(UpstreamState.PENDING.value),
            **{name: column(AuditRecord, name) for name in ("record_type", "record_id", "batch_id", "at")},
        )
        .as_string()
    )
