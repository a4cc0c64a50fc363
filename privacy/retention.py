"""The retention run: anonymize every eligible record older than a cutoff, as jobs.

One job per kind of record (core/jobs.py; kinds registered by
PrivacyConfig.ready()). Its plan selects chunks by walking the primary key (keyset pagination: each batch
starts after the last id of the one before, so the cost of a batch does not
grow with how far the walk has come) and each chunk goes to the one anonymizing
service, committed in one transaction with its chunk's done mark. An
interrupted job resumes at its first chunk not done; a new run continues with
what is left, since anonymized records are no longer candidates.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from core.audit import Actor
from core.errors import BatchRefused
from core.jobs import ChunkResult, JobKind, job_start
from core.models import JOB_FINISHED, Interface, Job, JobStatus
from orders.jobs import ORDERS_ANONYMIZE
from orders.models import AnonymizationBlock, Order
from orders.services import orders_anonymize
from promotions.jobs import USAGES_ANONYMIZE
from promotions.models import CodeUsage
from promotions.services import usages_anonymize

logger = logging.getLogger(__name__)

# A job in one of these may still run: a scheduled run starts no second one of its kind.
JOB_ACTIVE = [status for status in JobStatus.values if status not in JOB_FINISHED]


@dataclass
class RetentionSummary:
    """What a run would do (or did) to one kind of record."""

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


def _anonymize_refusing_none(anonymize, ids: list[uuid.UUID], id_key: str) -> ChunkResult:
    """Anonymize a chunk; records refused since selection are left out and the rest tried again.

    The service is all-or-nothing, so one order held or deleted a moment ago
    would otherwise stop its whole chunk.
    """
    refused = 0
    while ids:
        try:
            outcome = anonymize(ids)
        except BatchRefused as refusal:
            left_out = {uuid.UUID(problem.meta[id_key]) for problem in refusal.problems}
            refused += len(left_out)
            ids = [pk for pk in ids if pk not in left_out]
            continue
        return ChunkResult(
            changed=len(outcome.changed),
            batch_id=outcome.batch_id,
            unchanged=len(outcome.already_anonymized),
            refused=refused,
        )
    return ChunkResult(changed=0, refused=refused)


def _cutoff(params: dict) -> datetime:
    return datetime.fromisoformat(params["cutoff"])


def retention_params(*, cutoff: datetime) -> dict:
    return {"cutoff": cutoff.isoformat()}


def orders_retention_plan(*, params: dict, chunk_size: int):
    """The chunks of an orders retention job: eligible orders, in primary-key order."""
    return _walk(orders_eligible_for_retention(cutoff=_cutoff(params)), chunk_size)


def orders_retention_chunk(*, ids, actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """One chunk through `orders_anonymize` (rule, masking, locking, audit)."""

    def anonymize(ids):
        return orders_anonymize(order_ids=ids, actor=actor, via=via)

    return _anonymize_refusing_none(anonymize, ids, "order_id")


def usages_retention_plan(*, params: dict, chunk_size: int):
    """The chunks of a usages retention job: usages used before the cutoff, not anonymized."""
    return _walk(usages_eligible_for_retention(cutoff=_cutoff(params)), chunk_size)


def usages_retention_chunk(*, ids, actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """One chunk through `usages_anonymize`."""

    def anonymize(ids):
        return usages_anonymize(usage_ids=ids, actor=actor, via=via)

    return _anonymize_refusing_none(anonymize, ids, "usage_id")


# The retention run is one job per kind of record (params: {"cutoff": ISO datetime}).
ORDERS_RETENTION = JobKind(
    name="retention.orders",
    label="Retention: orders",
    plan=orders_retention_plan,
    run_chunk=orders_retention_chunk,
    masks=ORDERS_ANONYMIZE.masks,
)
USAGES_RETENTION = JobKind(
    name="retention.usages",
    label="Retention: code usages",
    plan=usages_retention_plan,
    run_chunk=usages_retention_chunk,
    masks=USAGES_ANONYMIZE.masks,
)


def retention_counts(*, record_type: str, cutoff: datetime) -> RetentionSummary:
    """What a retention run would do now ("orders" or "usages"): candidates, and orders held."""
    if record_type == "orders":
        return RetentionSummary(
            candidates=orders_eligible_for_retention(cutoff=cutoff).count(),
            held=orders_held_past_retention(cutoff=cutoff).count(),
        )
    return RetentionSummary(candidates=usages_eligible_for_retention(cutoff=cutoff).count())


RETENTION_KINDS = {"orders": ORDERS_RETENTION.name, "usages": USAGES_RETENTION.name}


def retention_start(
    *, record_type: str, cutoff: datetime, actor: Actor, chunk_size: int | None = None, defer: bool = True
) -> Job:
    """A retention job for "orders" or "usages" older than the cutoff, queued (or, `defer=False`, not)."""
    return job_start(
        kind=RETENTION_KINDS[record_type],
        actor=actor,
        via=Interface.COMMAND,
        params=retention_params(cutoff=cutoff),
        chunk_size=chunk_size,
        defer=defer,
    )


# Who the scheduled run's audit records name.
SCHEDULED_ACTOR = "retention schedule"


def retention_scheduled_start(*, now: datetime | None = None) -> list[Job]:
    """The scheduled retention run (privacy/tasks.py): a job per kind the settings ask for; the jobs started.

    RETENTION_ORDERS_DAYS (and RETENTION_USAGES_DAYS, when set) give the
    cutoffs. A kind whose last run is still queued or running gets no second
    job: two runs of one kind never overlap, however long one takes.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    now = now or timezone.now()
    runs = {"orders": settings.RETENTION_ORDERS_DAYS, "usages": settings.RETENTION_USAGES_DAYS}
    started = []
    for record_type, days in runs.items():
        if days is None:
            continue
        kind = RETENTION_KINDS[record_type]
        if Job.objects.filter(kind=kind, status__in=JOB_ACTIVE).exists():
            logger.info("Scheduled retention: a %s job is still queued or running; none started", kind)
            continue
        started.append(
            retention_start(
                record_type=record_type,
                cutoff=now - timedelta(days=days),
                actor=Actor.system(SCHEDULED_ACTOR),
            )
        )
    return started
