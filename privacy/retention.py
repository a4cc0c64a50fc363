"""The retention job: anonymize every eligible record older than a cutoff.

Selects batches by walking the primary key (keyset pagination: each batch
starts after the last id of the one before, so the cost of a batch does not
grow with how far the walk has come) and hands each batch to the one
anonymizing service, which commits it in its own transaction. An interrupted
run keeps every batch it finished; running it again continues with what is
left, since anonymized records are no longer candidates.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from core.audit import Actor
from core.errors import BatchRefused
from core.models import Interface
from orders.models import AnonymizationBlock, Order
from orders.services import orders_anonymize
from promotions.models import CodeUsage
from promotions.services import usages_anonymize

DEFAULT_BATCH_SIZE = 1000


@dataclass
class RetentionSummary:
    """What one run did to one kind of record."""

    candidates: int = 0  # eligible when the run began
    anonymized: int = 0
    already_anonymized: int = 0  # anonymized by someone else between selection and lock
    held: int = 0  # old enough and allowed by their statuses, but under an active legal hold
    refused: int = 0  # refused by the service: changed (held, status, deleted) after selection


def orders_eligible_for_retention(*, cutoff: datetime) -> QuerySet:
    """Orders created before the cutoff that orders_anonymize would change now."""
    return Order.objects.filter(created_at__lt=cutoff).anonymizable_now()


def orders_held_past_retention(*, cutoff: datetime) -> QuerySet:
    """Orders created before the cutoff that only a legal hold in force keeps as they are."""
    return Order.objects.filter(created_at__lt=cutoff).blocked_by(AnonymizationBlock.LEGAL_HOLD)


def usages_eligible_for_retention(*, cutoff: datetime) -> QuerySet:
    """Code usages used before the cutoff, not yet anonymized (a usage may always be anonymized)."""
    return CodeUsage.objects.filter(anonymized=False, used_on__lt=cutoff)


def _walk(queryset: QuerySet, batch_size: int):
    """Batches of primary keys, in primary-key order, each after the last one seen."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        last = ids[-1]
        yield ids


def _anonymize_refusing_none(anonymize, ids: list[uuid.UUID], id_key: str, summary: RetentionSummary) -> None:
    """Anonymize a batch; records refused since selection are left out and the rest tried again.

    The service is all-or-nothing, so one order held or deleted a moment ago
    would otherwise stop its whole batch.
    """
    while ids:
        try:
            outcome = anonymize(ids)
        except BatchRefused as refused:
            left_out = {uuid.UUID(problem.meta[id_key]) for problem in refused.problems}
            summary.refused += len(left_out)
            ids = [pk for pk in ids if pk not in left_out]
            continue
        summary.anonymized += len(outcome.changed)
        summary.already_anonymized += len(outcome.already_anonymized)
        return


def orders_anonymize_eligible(
    *,
    cutoff: datetime,
    actor: Actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_batch: Callable[[int], None] = lambda done: None,
) -> RetentionSummary:
    """Anonymize every order past retention that is not held, `batch_size` orders per transaction.

    Each batch goes through `orders_anonymize` (rule, masking, locking and
    audit with interface "command"). `on_batch` receives the number of orders
    handled after each batch. With `dry_run` only counts.
    """
    summary = RetentionSummary(
        candidates=orders_eligible_for_retention(cutoff=cutoff).count(),
        held=orders_held_past_retention(cutoff=cutoff).count(),
    )
    if dry_run:
        return summary

    def anonymize(ids):
        return orders_anonymize(order_ids=ids, actor=actor, via=Interface.COMMAND)

    for ids in _walk(orders_eligible_for_retention(cutoff=cutoff), batch_size):
        _anonymize_refusing_none(anonymize, ids, "order_id", summary)
        on_batch(len(ids))
    return summary


def usages_anonymize_eligible(
    *,
    cutoff: datetime,
    actor: Actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_batch: Callable[[int], None] = lambda done: None,
) -> RetentionSummary:
    """Anonymize every code usage used before the cutoff, `batch_size` per transaction.

    Each batch goes through `usages_anonymize`; otherwise as orders_anonymize_eligible.
    """
    summary = RetentionSummary(candidates=usages_eligible_for_retention(cutoff=cutoff).count())
    if dry_run:
        return summary

    def anonymize(ids):
        return usages_anonymize(usage_ids=ids, actor=actor, via=Interface.COMMAND)

    for ids in _walk(usages_eligible_for_retention(cutoff=cutoff), batch_size):
        _anonymize_refusing_none(anonymize, ids, "usage_id", summary)
        on_batch(len(ids))
    return summary
