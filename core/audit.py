"""Who did what: the actor of a change and the audit records it leaves."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import CharField

from core.lookups import Ids
from core.models import ApiKey, AuditAction, AuditRecord, ErasureRequest, Interface


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

    `groups` holds (field names, ids as one PostgreSQL uuid[] literal) pairs:
    100,000 records cost no Python object each.
    """

    groups: list[tuple[tuple[str, ...], str]]


def audit_records_create(
    *,
    actor: Actor,
    via: Interface,
    record_type: str,
    changed_fields: "dict | ChangedGroups",
    at: datetime,
    action: str = AuditAction.ANONYMIZE,
    erasure_request: ErasureRequest | None = None,
) -> uuid.UUID:
    """One record per changed record, in one INSERT; returns the batch id.

    `changed_fields` maps a record id to the names of the fields changed, or
    is a ChangedGroups.
    """
    batch_id = uuid.uuid4()
    _audit_records_insert_unnest(
        actor=actor,
        via=via,
        record_type=record_type,
        changed_fields=changed_fields,
        at=at,
        action=action,
        erasure_request=erasure_request,
        batch_id=batch_id,
    )
    return batch_id


def _groups_of(changed_fields: dict) -> list[tuple[tuple[str, ...], str]]:
    by_fields: dict[tuple[str, ...], list] = {}
    for record_id, fields in changed_fields.items():
        by_fields.setdefault(tuple(sorted(fields)), []).append(record_id)
    return [(fields, Ids(ids).array_literal()) for fields, ids in by_fields.items()]


def _audit_records_insert_unnest(
    *, actor, via, record_type, changed_fields, at, action, erasure_request, batch_id
):
    """The audit records, built by PostgreSQL from one JSON parameter.

    Building 1000 model instances and their VALUES list (a bulk_create) cost
    more than the insert itself; so did a JSON document of every record's field names
    (100,000 orders: seconds to dump and parse). Records share a handful of
    field lists, so the database gets each distinct list once, with the ids
    of its records as one uuid[] literal.
    """
    if isinstance(changed_fields, ChangedGroups):
        groups = changed_fields.groups
    else:
        groups = _groups_of(changed_fields)
    model_fields = {f.name: f for f in AuditRecord._meta.concrete_fields}
    shared = ("at", "action", "actor", "actor_user", "actor_key", "interface", "record_type", "batch_id")
    shared += ("erasure_request",)
    columns = ", ".join(
        connection.ops.quote_name(model_fields[n].column) for n in (*shared, "record_id", "fields")
    )
    # Typed placeholders: an untyped NULL in a SELECT list would be taken as text.
    # Text, not varchar(n), which would cut a long value where an INSERT raises.
    values = ", ".join(
        f"%s::{'text' if isinstance(model_fields[n], CharField) else model_fields[n].db_type(connection)}"
        for n in shared
    )
    sql = (
        f"INSERT INTO {connection.ops.quote_name(AuditRecord._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {values}, r.id, g.value -> 'fields' "
        "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS g(value, number) "
        "CROSS JOIN LATERAL unnest((g.value ->> 'ids')::uuid[]) WITH ORDINALITY AS r(id, n) "
        "ORDER BY g.number, r.n"
    )
    user_id = actor.user.pk if getattr(actor.user, "pk", None) else None
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                at,
                action,
                actor.label,
                user_id,
                actor.api_key.pk if actor.api_key else None,
                via,
                record_type,
                batch_id,
                erasure_request.pk if erasure_request else None,
                json.dumps([{"fields": list(fields), "ids": ids} for fields, ids in groups]),
            ],
        )
