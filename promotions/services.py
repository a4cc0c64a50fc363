"""The only code that anonymizes promotion code usages.

A usage may always be anonymized: its customer_email becomes the mask and
updated_by names who did it. Batches are all-or-nothing, a fixed handful of
statements per ARRAY_CHUNK_SIZE ids, rows locked in primary-key order.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from psycopg import sql

from core.audit import Actor, audit_records_create
from core.batches import (
    Outcome,
    Review,
    batch_chunk_size,
    chunked,
    in_key_order,
    unique_uuids,
)
from core.errors import NOT_FOUND_TITLE, USAGE_NOT_FOUND_DETAIL, USAGE_NOT_FOUND_PLAIN, BatchRefused, Problem
from core.lookups import Ids  # registers __in_array: one array parameter, not 1000
from core.masking import mask, value_flags
from core.models import ErasureRequest, Interface, RecordType
from core.retry import retry_on_conflict
from promotions.masking_sql import lock_and_mask_usages
from promotions.models import USAGE_PERSONAL_FIELDS, CodeUsage


def usage_problem_not_found(usage_id) -> Problem:
    return Problem(
        code="not_found",
        status=404,
        title=NOT_FOUND_TITLE,
        detail=USAGE_NOT_FOUND_DETAIL.format(id=usage_id),
        meta={"usage_id": str(usage_id)},
        plain=USAGE_NOT_FOUND_PLAIN,
    )


def usages_anonymization_review(*, usage_ids: Iterable, lock: bool = False) -> Review:
    """What anonymizing these usages would do; changes nothing.

    With `lock`, the rows are locked in key order until the caller's transaction
    ends (an erasure request settles its items on what it read). Raises
    ValueError for a non-UUID id.
    """
    ids = unique_uuids(usage_ids)
    review = Review(requested=ids)
    flags = value_flags(USAGE_PERSONAL_FIELDS)
    for chunk in chunked(in_key_order(ids), batch_chunk_size()):
        rows = CodeUsage.objects.filter(pk__in_array=Ids(chunk)).annotate(**flags)
        if lock:
            rows = rows.order_by("pk").select_for_update()
        _sort_out(review, chunk, rows.values_list("pk", "anonymized", *flags))
    return review


def _sort_out(review: Review, chunk: list, rows, returned: dict | None = None) -> None:
    """Sort a chunk's ids by their rows: (id, anonymized, a has-value flag per personal field[, returned]).

    An id without a row is not found. With `returned`, each eligible usage's
    last column goes there (LOCK_AND_MASK_USAGES's `returning` value).
    """
    found = {row[0]: row for row in rows}
    for pk in chunk:
        row = found.get(pk)
        if row is None:
            review.problems[pk] = usage_problem_not_found(pk)
        elif row[1]:
            review.already_anonymized.append(pk)
        else:
            flags = row[2 : 2 + len(USAGE_PERSONAL_FIELDS)]
            review.eligible[pk] = [
                name for name, present in zip(USAGE_PERSONAL_FIELDS, flags, strict=True) if present
            ]
            if returned is not None:
                returned[pk] = row[-1]


# A deadlock forced on it by another transaction is retried, or becomes a 409 (core.retry).
@retry_on_conflict
def usages_anonymize(
    *,
    usage_ids: Iterable,
    actor: Actor,
    via: Interface,
    erasure_request: ErasureRequest | None = None,
    returning: "str | sql.Composable | None" = None,
) -> Outcome:
    """Mask customer_email of these usages, all of them or none (BatchRefused on unknown ids).

    Statements per chunk of ids: one locks the usages in key order and masks
    those not yet anonymized (promotions.masking_sql); then one INSERT writes
    the audit records. An unknown id refuses the batch: the transaction,
    masking included, rolls back.

    Usages already anonymized are accepted and left as they are. `updated_by`
    takes the actor's label (a username or Key-<id>, never a secret).

    `returning`, a field name or an SQL expression (psycopg's sql) over the
    usage row (e.g. its EPCC document as JSON text, epcc.documents.usages),
    is handed back by the masking UPDATE itself for every usage it changes,
    as it is after the change: `Outcome.returned` maps their ids to its
    value, and nothing reads them again.
    """
    ids = unique_uuids(usage_ids)
    review = Review(requested=ids)
    returned = {}
    with transaction.atomic():
        now = timezone.now()
        for chunk in chunked(in_key_order(ids), batch_chunk_size()):
            rows = lock_and_mask_usages(
                chunk, now=now, mask=mask(), updated_by=actor.label[:64], returning=returning
            )
            _sort_out(review, chunk, rows, returned if returning is not None else None)
        if not review.ok:
            # Raised inside the transaction: the chunks already masked are rolled back.
            raise BatchRefused(review.problems_in_request_order())
        changed = list(review.eligible)
        batch_id = None
        if changed:
            batch_id = audit_records_create(
                actor=actor,
                via=via,
                record_type=RecordType.CODE_USAGE,
                changed_fields=review.eligible,
                at=now,
                erasure_request=erasure_request,
            )
    return Outcome(
        requested=review.requested,
        changed=changed,
        already_anonymized=review.already_anonymized,
        batch_id=batch_id,
        returned=returned,
    )
