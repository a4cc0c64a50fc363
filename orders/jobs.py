"""The job kinds of orders (core/jobs.py), registered by OrdersConfig.ready()."""

from core.audit import Actor
from core.jobs import ChunkResult, JobKind
from core.models import Interface
from orders.models import Order, OrderAddress, OrderCustomAttribute
from orders.services import orders_anonymize


def orders_anonymize_chunk(*, ids, actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """One chunk of an "Anonymize selected": all or nothing, as the service is.

    A chunk with a record refused since the job started (a hold placed, say)
    fails the job with the service's reason; the chunks before it stay done.
    """
    outcome = orders_anonymize(order_ids=ids, actor=actor, via=via)
    return ChunkResult(
        changed=len(outcome.changed), batch_id=outcome.batch_id, unchanged=len(outcome.already_anonymized)
    )


ORDERS_ANONYMIZE = JobKind(
    name="orders.anonymize",
    label="Anonymize orders",
    run_chunk=orders_anonymize_chunk,
    masks=(Order, OrderAddress, OrderCustomAttribute),
)
