"""The documents of EPCC's Personal Data API: log entries, related data entries, initiators.

Flat JSON:API documents, as EPCC writes them (no `attributes` wrapper). A page
holds at most 100 of them, so Python writes them from the rows one query read;
they hold ids, field names, the mask and the names of API keys, never a
personal value (a log entry's `delta` holds each changed field's NEW value:
the mask, never what it replaced).
"""

from datetime import UTC, datetime

from django.urls import reverse

from core.masking import mask
from core.models import AuditAction, AuditRecord, Interface, RecordType

LOG_ENTRY_TYPE = "personal_data_log_entry"
RELATED_DATA_ENTRY_TYPE = "related_data_entry"

# core.AuditAction -> the end of EPCC's event_type, `<resource_type>.event.<name>`.
EVENT_NAMES = {
    AuditAction.ANONYMIZE: "anonymized",
    AuditAction.HOLD_PLACED: "legal_hold_placed",
    AuditAction.HOLD_RELEASED: "legal_hold_released",
}
# EPCC's `access-token-type` names kinds of token, not secrets.
CLIENT_CREDENTIALS_TOKEN = "client-credentials-token"  # noqa: S105
# Who acted when no API key did: a person on the admin or the pages, or a command or job.
USER_TOKEN = "user"  # noqa: S105
SYSTEM_TOKEN = "system"  # noqa: S105


def epcc_timestamp(value: datetime | None) -> str | None:
    """EPCC's timestamp, as epcc.documents.formats.sql_timestamp writes it in SQL:
    'YYYY-MM-DDTHH:MM:SS[.mmm]Z' in UTC, no fraction when it has none."""
    if value is None:
        return None
    utc = value.astimezone(UTC)
    if utc.microsecond == 0:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def initiator(*, api_key, label: str, interface: str) -> dict:
    """EPCC's `initiator`: the API key that acted, else the person or the system.

    `access-token-email` and `access-token-store-id` are always null: this
    back-office keeps no store id, and an email is a personal value.
    """
    if api_key is not None:
        token_id, name, token_type = str(api_key.key_id), api_key.name, CLIENT_CREDENTIALS_TOKEN
    else:
        token_id, name = None, label
        token_type = (
            CLIENT_CREDENTIALS_TOKEN
            if interface == Interface.API
            else (USER_TOKEN if interface in (Interface.ADMIN, Interface.WEB) else SYSTEM_TOKEN)
        )
    return {
        "access-token-email": None,
        "access-token-id": token_id,
        "access-token-name": name,
        "access-token-store-id": None,
        "access-token-type": token_type,
    }


def log_delta(record: AuditRecord) -> dict:
    """The changed fields with their NEW values, nested as in the resource's document.

    An anonymization's fields all hold the mask now (`customer.email`,
    `shipping_address.city`, `custom_attributes.<name>.value`, `customer_email`);
    a legal hold's only change is `legal_hold`. Any other action shows no value.
    """
    if record.action == AuditAction.HOLD_PLACED:
        return {"legal_hold": True}
    if record.action == AuditAction.HOLD_RELEASED:
        return {"legal_hold": False}
    if record.action != AuditAction.ANONYMIZE:
        return {}
    delta: dict = {}
    masked = mask()
    for name in record.fields or []:
        if name.startswith("custom_attributes.") and name.endswith(".value"):
            # An attribute's name may itself hold dots.
            attribute = name[len("custom_attributes.") : -len(".value")]
            delta.setdefault("custom_attributes", {}).setdefault(attribute, {})["value"] = masked
        elif "." in name:
            parent, child = name.split(".", 1)
            delta.setdefault(parent, {})[child] = masked
        else:
            delta[name] = masked
    return delta


def resource_url(request, resource_type: str, resource_id, promotion_id=None) -> str | None:
    """Where the API serves the resource itself (a usage: in its promotion's list)."""
    if resource_type == RecordType.ORDER:
        return request.build_absolute_uri(reverse("order", kwargs={"pk": resource_id}))
    if resource_type == RecordType.CODE_USAGE and promotion_id is not None:
        path = reverse("promotion-usages", kwargs={"promotion_id": promotion_id})
        return request.build_absolute_uri(path) + f"?filter=eq(id,{resource_id})"
    return None


def log_entry_document(request, record: AuditRecord) -> dict:
    """One audit record as EPCC's `personal_data_log_entry`.

    `record` comes from epcc.personal_data_records.audit_trail (its key
    selected, and `promotion_id` annotated on code usages' records).
    """
    url = resource_url(request, record.record_type, record.record_id, getattr(record, "promotion_id", None))
    meta = {"interface": record.interface, "batch_id": str(record.batch_id)}
    if record.erasure_request_id is not None:
        meta["erasure_request_id"] = str(record.erasure_request_id)
    return {
        "id": str(record.pk),
        "store_id": None,
        "type": LOG_ENTRY_TYPE,
        "initiator": initiator(api_key=record.actor_key, label=record.actor, interface=record.interface),
        "time": epcc_timestamp(record.at),
        "event_type": f"{record.record_type}.event.{EVENT_NAMES.get(record.action, record.action)}",
        "delta": log_delta(record),
        "resource_id": str(record.record_id),
        "resource_type": record.record_type,
        "relationships": {"resource_path": {"url": url}},
        "meta": meta,
        "links": {"self": request.build_absolute_uri(reverse("personal-data-log", kwargs={"pk": record.pk}))},
    }


def related_data_entry_document(row: dict) -> dict:
    """A row of epcc.personal_data_records.related_records as EPCC's `related_data_entry`."""
    return {
        "id": str(row["resource_id"]),
        "type": RELATED_DATA_ENTRY_TYPE,
        "resource_type": row["resource_type"],
        "resource_id": str(row["resource_id"]),
    }
