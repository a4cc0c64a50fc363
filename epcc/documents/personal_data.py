"""The documents of EPCC's Personal Data API: log entries, related data entries, initiators.

Flat JSON:API documents, as EPCC writes them (no `attributes` wrapper). A page
holds at most 100 of them, so Python writes them from the rows one query read;
they hold ids, field names, the mask and the names of API keys, never a
personal value (a log entry's `delta` holds each changed field's NEW value:
the mask, never what it replaced).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.urls import reverse

from core.masking import mask
from core.models import AuditAction, AuditRecord, ErasureRequestStatus, Interface, RecordType
from erasure.models import WaitReason

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
# core.models.ApiKey.label: "Key-<key_id>".
KEY_LABEL_PREFIX = "Key-"


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
    elif interface == Interface.API:
        # A job started through the API acts under its key's label only (core.jobs.actor_of).
        key_id = label.removeprefix(KEY_LABEL_PREFIX)
        token_id = key_id if label.startswith(KEY_LABEL_PREFIX) and key_id.isdigit() else None
        name, token_type = label, CLIENT_CREDENTIALS_TOKEN
    else:
        token_id, name = None, label
        token_type = USER_TOKEN if interface in (Interface.ADMIN, Interface.WEB) else SYSTEM_TOKEN
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


# --- Erasure requests ----------------------------------------------------------------------------

ERASURE_REQUEST_TYPE = "erasure_request"
CREATED, SUCCESS, FAILURE = "CREATED", "SUCCESS", "FAILURE"
# EPCC's own words for its three statuses (its published examples), then ours after them.
CREATED_DESCRIPTION = "The erasure request successfully created"
SUCCESS_DESCRIPTION = "The erasure request is successfully processed"
FAILURE_DESCRIPTION = "There was an error processing your request, you can retry it or report it using the id"
REJECTED_DESCRIPTION = (
    "The erasure request was rejected by a privacy officer (e.g. the identity could not be "
    "verified); create a new one once it can be answered"
)
CANCELLED_DESCRIPTION = "The erasure request was cancelled by a privacy officer"
NOTHING_HELD_DESCRIPTION = "nothing is held about this resource, so there is nothing to erase"
# How many waiting records a description names; it counts the rest.
NAMED_WAITING = 5


@dataclass(frozen=True)
class WaitingRecord:
    """An item of a request that waits: which record, why (erasure.models.WaitReason), until when."""

    record_type: str
    record_id: object
    wait_reason: str
    waiting_until: object = None
    statuses: str | None = None  # an order's, e.g. "order:complete, payment:paid, shipping:unfulfilled"


def _waiting_text(item: WaitingRecord) -> str:
    record = f"{item.record_type.replace('_', ' ')} {item.record_id}"
    if item.wait_reason == WaitReason.LEGAL_HOLD:
        until = f"until {item.waiting_until.isoformat()}" if item.waiting_until else "until it is released"
        return f"{record} is under legal hold {until}"
    if item.wait_reason == WaitReason.STATUSES:
        statuses = f" (status: {item.statuses})" if item.statuses else ""
        return f"{record}{statuses} is not yet fulfilled, cancelled or refunded"
    return f"{record} waits ({item.wait_reason or 'unknown reason'})"


def erasure_request_status(
    erasure_request, *, job_failed: bool, counts: dict, waiting: list[WaitingRecord]
) -> tuple[str, str]:
    """EPCC's (status, status_description) of a request.

    CREATED while anything is still to do (open or waiting: the description
    says what waits and until when), SUCCESS when completed, FAILURE when
    rejected, cancelled, or when its last job failed. `counts` holds the
    request's items by state (erasure.selectors.erasure_requests annotates them).
    """
    status = erasure_request.status
    if status == ErasureRequestStatus.COMPLETED:
        done = counts.get("anonymized", 0)
        if not counts.get("total"):
            return SUCCESS, f"{SUCCESS_DESCRIPTION}: {NOTHING_HELD_DESCRIPTION}"
        excluded = counts.get("excluded", 0)
        return SUCCESS, (
            f"{SUCCESS_DESCRIPTION}: {done} record(s) anonymized"
            + (f", {excluded} excluded by a privacy officer" if excluded else "")
        )
    if status == ErasureRequestStatus.REJECTED:
        return FAILURE, REJECTED_DESCRIPTION
    if status == ErasureRequestStatus.CANCELLED:
        return FAILURE, CANCELLED_DESCRIPTION
    if job_failed:
        return FAILURE, FAILURE_DESCRIPTION
    due = f"due on {erasure_request.due.isoformat()}"
    if status == ErasureRequestStatus.WAITING or counts.get("waiting"):
        named = "; ".join(_waiting_text(item) for item in waiting[:NAMED_WAITING])
        more = counts.get("waiting", len(waiting)) - min(len(waiting), NAMED_WAITING)
        return CREATED, (
            f"{CREATED_DESCRIPTION}; {counts.get('anonymized', 0)} record(s) anonymized, "
            f"{counts.get('waiting', len(waiting))} waiting: {named}"
            + (f"; and {more} more" if more > 0 else "")
            + f". Each is anonymized by the follow-up once it becomes eligible; {due}"
        )
    pending = counts.get("pending", 0)
    return CREATED, (
        f"{CREATED_DESCRIPTION}; {pending} of {counts.get('total', 0)} record(s) still to handle "
        f"by a background job; {due}"
    )


def _request_initiator(erasure_request) -> dict:
    key, user = erasure_request.created_by_api_key, erasure_request.created_by
    if key is not None:
        return initiator(api_key=key, label=key.label, interface=Interface.API)
    if user is not None:
        return initiator(api_key=None, label=user.get_username(), interface=Interface.WEB)
    return initiator(api_key=None, label=SYSTEM_TOKEN, interface=Interface.COMMAND)


def erasure_request_document(
    request, erasure_request, *, status: str, description: str, counts: dict
) -> dict:
    """A request as EPCC's `erasure_request`; `meta` adds the case file's dates and item counts."""
    return {
        "id": str(erasure_request.pk),
        "type": ERASURE_REQUEST_TYPE,
        "resource_id": erasure_request.resource_id,
        "resource_type": erasure_request.resource_type,
        "initiator": _request_initiator(erasure_request),
        "status": status,
        "status_description": description,
        "created_at": epcc_timestamp(erasure_request.created_at),
        "updated_at": epcc_timestamp(erasure_request.updated_at),
        "meta": {
            "reference": erasure_request.reference,
            "received_on": erasure_request.received_on.isoformat(),
            "due_on": erasure_request.due.isoformat(),
            "closed_at": epcc_timestamp(erasure_request.closed_at),
            "items": counts,
        },
        "links": {
            "self": request.build_absolute_uri(
                reverse("personal-data-erasure-request", kwargs={"pk": erasure_request.pk})
            )
        },
    }
