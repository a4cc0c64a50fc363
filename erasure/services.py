"""The erasure request case file: the only code that opens, works and closes erasure requests.

A request names its subject by a resource type and an identifier, keeps only
a keyed hash of it (erasure/subjects.py), and holds one item per record
found. A job (erasure/jobs.py) settles the items: each eligible record is
anonymized through the one anonymizing service of its kind (audit records
linked to the request), the rest wait with the reason. The follow-up settles
waiting items again; a request with nothing left to handle completes by
itself. Every function here is one transaction.
"""

import uuid
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, OuterRef, Value, When
from django.utils import timezone

from core.audit import Actor
from core.batches import in_key_order, unique_uuids
from core.jobs import job_start
from core.models import (
    ERASURE_DUE_MONTHS,
    ERASURE_EXTENSION_MAX_MONTHS,
    ERASURE_REQUEST_CLOSED,
    ErasureRequest,
    ErasureRequestStatus,
    Interface,
    Job,
    RecordType,
    add_months,
)
from core.retry import retry_on_conflict
from erasure.models import ErasureRequestItem, ItemState, WaitReason
from erasure.settle_sql import items_settle
from erasure.subjects import Subject, subject_keys_of, subject_of, subject_orders, subject_usages
from orders.models import LegalHold, Order
from orders.services import orders_anonymization_review, orders_anonymize
from promotions.models import CodeUsage
from promotions.services import usages_anonymization_review, usages_anonymize

REFERENCE_MAX_LENGTH = ErasureRequest._meta.get_field("reference").max_length
# The job kind that settles a request's items (erasure/jobs.py).
ERASURE_REQUEST_JOB = "erasure.request"
FOLLOW_UP_ACTOR = "erasure follow-up"

OPEN_ITEM_STATES = (ItemState.PENDING, ItemState.WAITING)

WAITING_STATUSES_REASON = (
    "Not yet fulfilled, cancelled or refunded (order: {status}, payment: {payment}, shipping: {shipping}); "
    "it is anonymized by the follow-up once it is shipped, cancelled or refunded in EPCC."
)
WAITING_HOLD_REASON = (
    "Under legal hold until {until} ({reason}); it is anonymized by the follow-up once the hold ends."
)
NOT_FOUND_REASON = "The record is no longer in the database: nothing is held."


class RequestExists(ValueError):
    """A request with this id was already opened (the same form sent twice)."""

    def __init__(self, request_id):
        self.request_id = request_id
        super().__init__("This erasure request was already started.")


class ErasureRequestClosed(ValueError):
    """A change to a request that is completed, rejected or cancelled."""


def _clean_text(value: str, what: str, *, required: bool = True, limit: int | None = None) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValueError(f"The {what} may not contain a NUL character.")
    if required and not value:
        raise ValueError(f"An erasure request needs a {what}.")
    if limit and len(value) > limit:
        raise ValueError(f"A {what} has at most {limit} characters.")
    return value


def _user_of(actor: Actor):
    return actor.user if getattr(actor.user, "pk", None) else None


def _new_request(
    *, reference: str, actor: Actor, subject: Subject | None, received_on, pk: uuid.UUID | None = None
) -> ErasureRequest:
    today = timezone.localdate()
    received_on = received_on or today
    if received_on > today:
        raise ValueError("A request cannot be received in the future.")
    return ErasureRequest.objects.create(
        pk=pk or uuid.uuid4(),
        reference=_clean_text(reference, "reference", limit=REFERENCE_MAX_LENGTH),
        subject_key=subject.key if subject else "",
        resource_type=subject.resource_type if subject else "",
        resource_id=subject.resource_id if subject else "",
        received_on=received_on,
        created_by=_user_of(actor),
        created_by_api_key=actor.api_key,
    )


def _items_add(erasure_request: ErasureRequest, record_type: str, record_ids: Iterable, **values) -> int:
    """Add these records as items (one read, one INSERT); records already items of the request are skipped.

    The read is of these records only: a request filed chunk by chunk (an admin job of
    100,000 orders) must not read its earlier chunks' items again for each new one.
    """
    now = timezone.now()
    record_ids = list(record_ids)
    known = set(
        ErasureRequestItem.objects.filter(
            request=erasure_request, record_type=record_type, record_id__in=record_ids
        ).values_list("record_id", flat=True)
    )
    rows = [
        ErasureRequestItem(
            request=erasure_request,
            record_type=record_type,
            record_id=pk,
            created_at=now,
            updated_at=now,
            **values,
        )
        for pk in record_ids
        if pk not in known
    ]
    ErasureRequestItem.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _run(erasure_request: ErasureRequest, *, actor: Actor, via: Interface) -> Job:
    """Queue the job that settles the request's pending items (when the transaction commits)."""
    params = {"erasure_request": str(erasure_request.pk)}
    if actor.api_key is not None:
        # The job's own actor keeps a label and a user; the key lets its audit records name the key.
        params["api_key"] = actor.api_key.pk
    return job_start(kind=ERASURE_REQUEST_JOB, actor=actor, via=via, params=params)


def erasure_request_create(
    *,
    resource_type: str,
    resource_id: str,
    reference: str,
    actor: Actor,
    via: Interface,
    received_on=None,
    run: bool = True,
    request_id: uuid.UUID | None = None,
) -> ErasureRequest:
    """Open an erasure request for a subject, with one item per record held about them.

    `resource_type` is email, customer, account, order or code_usage (EPCC's
    hyphenated spellings too), `resource_id` the identifier: which records
    that finds is erasure.subjects (the same as "Find a person"). With `run`,
    a job (kind "erasure.request") settles the items: anonymizes each eligible
    record and marks the rest waiting; the request is returned at once.
    Raises ValueError (SubjectError) on a bad identifier or reference.
    `request_id` fixes the new request's id, so a form sent twice opens one
    request: the second raises RequestExists and changes nothing.
    """
    subject = subject_of(resource_type, resource_id)
    if request_id is not None and ErasureRequest.objects.filter(pk=request_id).exists():
        raise RequestExists(request_id)
    with transaction.atomic():
        try:
            with transaction.atomic():
                erasure_request = _new_request(
                    reference=reference, actor=actor, subject=subject, received_on=received_on, pk=request_id
                )
        except IntegrityError:
            # The same id sent twice at once: the other one opened it.
            raise RequestExists(request_id) from None
        order_ids = subject_orders(subject).order_by("pk").values_list("pk", flat=True)
        usage_ids = subject_usages(subject).order_by("pk").values_list("pk", flat=True)
        found = _items_add(erasure_request, RecordType.ORDER, order_ids)
        found += _items_add(erasure_request, RecordType.CODE_USAGE, usage_ids)
        if not found:
            # Nothing is held about the subject: the request is answered at once.
            _refresh_statuses([erasure_request.pk])
            erasure_request.refresh_from_db()
        elif run:
            _run(erasure_request, actor=actor, via=via)
    return erasure_request


def erasure_request_open(*, reference: str, actor: Actor, received_on=None) -> ErasureRequest:
    """A request without a known subject (the admin's selection files its anonymizations under it)."""
    return _new_request(reference=reference, actor=actor, subject=None, received_on=received_on)


def erasure_request_records_anonymized(
    *, erasure_request: ErasureRequest, record_type: str, record_ids: Iterable, batch_id=None
) -> int:
    """File records anonymized elsewhere (the admin's action) as anonymized items of the request."""
    now = timezone.now()
    ids = unique_uuids(record_ids)
    with transaction.atomic():
        added = _items_add(
            erasure_request,
            record_type,
            ids,
            state=ItemState.ANONYMIZED,
            batch_id=batch_id,
            anonymized_at=now,
        )
        ErasureRequestItem.objects.filter(
            request=erasure_request, record_type=record_type, record_id__in=ids, state__in=OPEN_ITEM_STATES
        ).update(
            state=ItemState.ANONYMIZED,
            batch_id=batch_id,
            anonymized_at=now,
            updated_at=now,
            reason="",
            wait_reason="",
        )
        _refresh_statuses([erasure_request.pk])
    return added


def _waiting(problem, order_statuses: dict, holds: dict) -> dict:
    order_id = uuid.UUID(problem.meta["order_id"])
    if problem.code == "legal_hold":
        hold = holds[uuid.UUID(problem.meta["legal_hold_id"])]
        return {
            "state": ItemState.WAITING,
            "wait_reason": WaitReason.LEGAL_HOLD,
            "waiting_until": hold.ends_on,
            "reason": WAITING_HOLD_REASON.format(until=hold.until, reason=hold.reason),
        }
    status, payment, shipping = order_statuses[order_id]
    return {
        "state": ItemState.WAITING,
        "wait_reason": WaitReason.STATUSES,
        "waiting_until": None,
        "reason": WAITING_STATUSES_REASON.format(status=status, payment=payment, shipping=shipping),
    }


def _settled(item_id, state, *, batch_id=None, **values) -> dict:
    return {
        "id": str(item_id),
        "state": state,
        "wait_reason": values.get("wait_reason", ""),
        "waiting_until": values.get("waiting_until"),
        "reason": values.get("reason", ""),
        "batch_id": str(batch_id) if batch_id else None,
    }


def _settled_anonymized(items: dict, outcome) -> list[dict]:
    """The items of an anonymizing service's outcome: changed (with its audit batch) or already anonymized."""
    return [
        _settled(items[pk], ItemState.ANONYMIZED, batch_id=outcome.batch_id) for pk in outcome.changed
    ] + [_settled(items[pk], ItemState.ANONYMIZED) for pk in outcome.already_anonymized]


def _settle_orders(erasure_request, items: dict, actor: Actor, via: Interface) -> list[dict]:
    """Anonymize the eligible orders of these items (record id -> item id); say why the rest wait."""
    if not items:
        return []
    review = orders_anonymization_review(order_ids=list(items), lock=True, with_fields=False)
    settled = []
    if review.eligible:
        outcome = orders_anonymize(
            order_ids=list(review.eligible), actor=actor, via=via, erasure_request=erasure_request
        )
        settled += _settled_anonymized(items, outcome)
    settled += [_settled(items[pk], ItemState.ANONYMIZED) for pk in review.already_anonymized]
    refused = review.refused
    statuses = {
        row[0]: row[1:]
        for row in Order.objects.filter(pk__in=list(refused)).values_list(
            "pk", "status", "payment", "shipping"
        )
    }
    hold_ids = [p.meta["legal_hold_id"] for p in refused.values() if p.code == "legal_hold"]
    holds = {hold.pk: hold for hold in LegalHold.objects.filter(pk__in=hold_ids)} if hold_ids else {}
    settled += [_settled(items[pk], **_waiting(problem, statuses, holds)) for pk, problem in refused.items()]
    settled += [_settled(items[pk], ItemState.EXCLUDED, reason=NOT_FOUND_REASON) for pk in review.unknown]
    return settled


def _settle_usages(erasure_request, items: dict, actor: Actor, via: Interface) -> list[dict]:
    """Anonymize these items' code usages (a usage may always be anonymized)."""
    if not items:
        return []
    review = usages_anonymization_review(usage_ids=list(items), lock=True)
    settled = [_settled(items[pk], ItemState.EXCLUDED, reason=NOT_FOUND_REASON) for pk in review.unknown]
    settled += [_settled(items[pk], ItemState.ANONYMIZED) for pk in review.already_anonymized]
    if review.eligible:
        outcome = usages_anonymize(
            usage_ids=list(review.eligible), actor=actor, via=via, erasure_request=erasure_request
        )
        settled += _settled_anonymized(items, outcome)
    return settled


@retry_on_conflict
def erasure_request_items_settle(
    *, erasure_request_id, item_ids: Iterable | None = None, actor: Actor, via: Interface
) -> int:
    """Settle a request's pending and waiting items (these, or all): anonymize, or say why they wait.

    Locks the request, then its items in primary-key order, then their
    records (the anonymizing services' rule decides); items settled meanwhile
    by another run are skipped. Nothing is done for a closed request. Then the
    request's status follows its items. Returns how many items changed state
    or reason. A fixed handful of statements per kind of record.
    """
    with transaction.atomic():
        erasure_request = ErasureRequest.objects.select_for_update().get(pk=erasure_request_id)
        if erasure_request.status in ERASURE_REQUEST_CLOSED:
            return 0
        items = ErasureRequestItem.objects.filter(request=erasure_request, state__in=OPEN_ITEM_STATES)
        if item_ids is not None:
            items = items.filter(pk__in=list(item_ids))
        rows = list(items.order_by("pk").select_for_update().values_list("pk", "record_type", "record_id"))
        orders = {record_id: pk for pk, kind, record_id in rows if kind == RecordType.ORDER}
        usages = {record_id: pk for pk, kind, record_id in rows if kind == RecordType.CODE_USAGE}
        settled = _settle_orders(erasure_request, orders, actor, via)
        settled += _settle_usages(erasure_request, usages, actor, via)
        changed = items_settle(settled, now=timezone.now())
        _refresh_statuses([erasure_request.pk])
    return changed


def _refresh_statuses(request_ids: list) -> int:
    """Each open or waiting request's status from its items: open, waiting, or completed (one UPDATE)."""
    now = timezone.now()
    items = ErasureRequestItem.objects.filter(request=OuterRef("pk"))
    pending = Exists(items.filter(state=ItemState.PENDING))
    waiting = Exists(items.filter(state=ItemState.WAITING))
    return (
        ErasureRequest.objects.filter(pk__in=request_ids)
        .exclude(status__in=ERASURE_REQUEST_CLOSED)
        .update(
            status=Case(
                When(pending, then=Value(ErasureRequestStatus.OPEN)),
                When(waiting, then=Value(ErasureRequestStatus.WAITING)),
                default=Value(ErasureRequestStatus.COMPLETED),
            ),
            closed_at=Case(When(pending | waiting, then=None), default=Value(now)),
            updated_at=now,
        )
    )


def erasure_request_follow_up(*, actor: Actor | None = None) -> int:
    """Settle every open or waiting request's pending and waiting items again; how many items changed.

    An item whose order has become eligible (shipped, cancelled, refunded,
    its hold ended) is anonymized, its audit records linked to the request;
    a request with nothing left waiting completes by itself. One
    transaction per request (a handful of statements each).
    """
    actor = actor or Actor.system(FOLLOW_UP_ACTOR)
    request_ids = list(
        ErasureRequest.objects.not_closed()
        .filter(Exists(ErasureRequestItem.objects.filter(request=OuterRef("pk"), state__in=OPEN_ITEM_STATES)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    changed = 0
    for request_id in request_ids:
        changed += erasure_request_items_settle(
            erasure_request_id=request_id, actor=actor, via=Interface.COMMAND
        )
    # Requests whose items were all excluded or settled elsewhere complete too.
    _refresh_statuses(list(ErasureRequest.objects.not_closed().values_list("pk", flat=True)))
    return changed


def _locked_open_request(erasure_request_id) -> ErasureRequest:
    erasure_request = ErasureRequest.objects.select_for_update().get(pk=erasure_request_id)
    if erasure_request.closed:
        raise ErasureRequestClosed(
            f"This request is {erasure_request.get_status_display().lower()}; it cannot change."
        )
    return erasure_request


def erasure_request_extend(*, erasure_request_id, months: int, reason: str, actor: Actor) -> ErasureRequest:
    """Extend the due date once, by one or two months (GDPR Art. 12(3)), with a reason."""
    reason = _clean_text(reason, "reason for the extension")
    if not isinstance(months, int) or not 1 <= months <= ERASURE_EXTENSION_MAX_MONTHS:
        raise ValueError(f"An extension is 1 to {ERASURE_EXTENSION_MAX_MONTHS} months.")
    with transaction.atomic():
        erasure_request = _locked_open_request(erasure_request_id)
        if erasure_request.extension_months:
            raise ValueError("This request was already extended; a request may be extended once.")
        erasure_request.extension_months = months
        erasure_request.extension_reason = reason
        # Counted from receipt, as the first month is: 31 May + 1 + 2 months is 31 August, not 30.
        erasure_request.extended_due_on = add_months(erasure_request.received_on, ERASURE_DUE_MONTHS + months)
        erasure_request.updated_at = timezone.now()
        erasure_request.save(
            update_fields=["extension_months", "extension_reason", "extended_due_on", "updated_at"]
        )
    return erasure_request


def _close(erasure_request_id, status: str, note: str) -> ErasureRequest:
    with transaction.atomic():
        erasure_request = _locked_open_request(erasure_request_id)
        erasure_request.status = status
        erasure_request.closing_note = note
        erasure_request.closed_at = erasure_request.updated_at = timezone.now()
        erasure_request.save(update_fields=["status", "closing_note", "closed_at", "updated_at"])
    return erasure_request


def erasure_request_reject(*, erasure_request_id, reason: str, actor: Actor) -> ErasureRequest:
    """Close a request without erasing (e.g. identity not verified); the reason is required.

    What was anonymized stays anonymized; waiting items are no longer followed up.
    """
    return _close(
        erasure_request_id, ErasureRequestStatus.REJECTED, _clean_text(reason, "reason for the rejection")
    )


def erasure_request_cancel(*, erasure_request_id, reason: str = "", actor: Actor) -> ErasureRequest:
    """Close a request withdrawn (or opened by mistake); waiting items are no longer followed up."""
    return _close(
        erasure_request_id, ErasureRequestStatus.CANCELLED, _clean_text(reason, "note", required=False)
    )


def erasure_request_item_exclude(*, item_id, reason: str, actor: Actor) -> ErasureRequestItem:
    """Leave one record out of a request, with the officer's reason; the request may then complete."""
    reason = _clean_text(reason, "reason for the exclusion")
    with transaction.atomic():
        request_id = ErasureRequestItem.objects.values_list("request_id", flat=True).get(pk=item_id)
        _locked_open_request(request_id)
        item = ErasureRequestItem.objects.select_for_update().get(pk=item_id)
        if item.state not in OPEN_ITEM_STATES:
            raise ValueError(
                f"This record is already {item.get_state_display().lower()}; it cannot be excluded."
            )
        now = timezone.now()
        item.state, item.reason, item.wait_reason, item.waiting_until = ItemState.EXCLUDED, reason, "", None
        item.excluded_at = item.updated_at = now
        item.save(
            update_fields=["state", "reason", "wait_reason", "waiting_until", "excluded_at", "updated_at"]
        )
        _refresh_statuses([request_id])
    return item


def erasure_requests_attach_new_records(
    *, order_ids: Iterable = (), usage_ids: Iterable = (), actor: Actor | None = None, run: bool = True
) -> int:
    """Add imported records to the open or waiting requests whose subject they belong to; how many items.

    A record belongs to a request when its email (customer's or contact's),
    customer id or account id hashes to the request's subject_key. Each
    request that gained items is reopened and, with `run`, a job settles
    them. Costs a fixed handful of statements per call: one read per kind of
    record, one for the requests, one INSERT per kind of record per request
    matched.
    """
    order_ids, usage_ids = unique_uuids(order_ids), unique_uuids(usage_ids)
    requests = ErasureRequest.objects.not_closed().exclude(subject_key="")
    if not (order_ids or usage_ids) or not requests.exists():
        return 0
    keys_of: dict[tuple[str, uuid.UUID], dict] = {}
    orders = Order.objects.filter(pk__in=order_ids).values_list(
        "pk", "customer_email", "contact_email", "customer_id", "account_id"
    )
    for pk, email, contact, customer_id, account_id in orders:
        keys_of[(RecordType.ORDER, pk)] = subject_keys_of(
            emails=(email, contact), ids=(customer_id, account_id)
        )
    usages = CodeUsage.objects.filter(pk__in=usage_ids).values_list(
        "pk", "customer_email", "customer_id", "account_id"
    )
    for pk, email, customer_id, account_id in usages:
        keys_of[(RecordType.CODE_USAGE, pk)] = subject_keys_of(emails=(email,), ids=(customer_id, account_id))
    all_keys = {key for keys in keys_of.values() for key in keys}
    matched: dict[str, list] = {}
    for pk, key in requests.filter(subject_key__in=all_keys).order_by("pk").values_list("pk", "subject_key"):
        matched.setdefault(key, []).append(pk)
    if not matched:
        return 0
    wanted: dict[uuid.UUID, dict[str, list]] = {}
    for (record_type, record_id), keys in keys_of.items():
        for key in keys:
            for request_id in matched.get(key, ()):
                wanted.setdefault(request_id, {}).setdefault(record_type, []).append(record_id)
    actor = actor or Actor.system(FOLLOW_UP_ACTOR)
    added = 0
    with transaction.atomic():
        for erasure_request in (
            ErasureRequest.objects.select_for_update().filter(pk__in=list(wanted)).order_by("pk")
        ):
            if erasure_request.closed:
                continue
            gained = sum(
                _items_add(erasure_request, record_type, in_key_order(set(ids)))
                for record_type, ids in wanted[erasure_request.pk].items()
            )
            if gained:
                added += gained
                _refresh_statuses([erasure_request.pk])
                if run:
                    _run(erasure_request, actor=actor, via=Interface.COMMAND)
    return added
