"""The job kinds of orders (core/jobs.py), registered by OrdersConfig.ready()."""

from core.admin_actions import anonymized_chunk, erasure_request_of
from core.audit import Actor
from core.jobs import ChunkResult, JobKind
from core.models import Interface, RecordType
from orders.models import ORDER_PERSONAL_FIELDS, Order, OrderAddress, OrderCustomAttribute
from orders.services import orders_anonymize

# What an anonymization masks, as the admin history names it (never a value).
ORDER_MASKED_FIELDS = (
    ", ".join(ORDER_PERSONAL_FIELDS) + ", the shipping and billing address fields and custom attribute values"
)


def orders_anonymize_chunk(*, ids, actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """One chunk of an "Anonymize selected": all or nothing, as the service is.

    A chunk with a record refused since the job started (a hold placed, say)
    fails the job with the service's reason; the chunks before it stay done.
    params: `erasure_request` (an id, optional) files the chunk's audit
    records under it; `admin_history` writes one admin history entry per
    order changed, as the admin's own action does.
    """
    outcome = orders_anonymize(
        order_ids=ids, actor=actor, via=via, erasure_request=erasure_request_of(params)
    )
    return anonymized_chunk(
        outcome,
        model=Order,
        record_type=RecordType.ORDER,
        masked_fields=ORDER_MASKED_FIELDS,
        actor=actor,
        params=params,
    )


ORDERS_ANONYMIZE = JobKind(
    name="orders.anonymize",
    label="Anonymize orders",
    run_chunk=orders_anonymize_chunk,
    masks=(Order, OrderAddress, OrderCustomAttribute),
)
