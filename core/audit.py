"""Who did what: the actor of a change and the audit records it leaves."""

import uuid
from dataclasses import dataclass
from datetime import datetime

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


def audit_records_create(
    *,
    actor: Actor,
    via: Interface,
    record_type: str,
    changed_fields: dict,
    at: datetime,
    action: str = AuditAction.ANONYMIZE,
    erasure_request: ErasureRequest | None = None,
) -> uuid.UUID:
    """One record per changed record, in one INSERT; returns the batch id.

    `changed_fields` maps a record id to the names of the fields changed.
    """
    batch_id = uuid.uuid4()
    AuditRecord.objects.bulk_create(
        [
            AuditRecord(
                at=at,
                action=action,
                actor=actor.label,
                actor_user=actor.user if getattr(actor.user, "pk", None) else None,
                actor_key=actor.api_key,
                interface=via,
                record_type=record_type,
                record_id=record_id,
                fields=sorted(fields),
                batch_id=batch_id,
                erasure_request=erasure_request,
            )
            for record_id, fields in changed_fields.items()
        ]
    )
    return batch_id
