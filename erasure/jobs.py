"""The job kind that settles an erasure request's items; registered by ErasureConfig.ready()."""

import uuid

from core.audit import Actor
from core.jobs import ChunkResult, JobKind
from core.models import ApiKey, Interface
from erasure.models import ErasureRequestItem
from erasure.services import ERASURE_REQUEST_JOB, OPEN_ITEM_STATES, erasure_request_items_settle


def erasure_request_plan(*, params: dict, chunk_size: int):
    """The request's items still to handle, in primary-key order, in chunks."""
    ids = list(
        ErasureRequestItem.objects.filter(request_id=params["erasure_request"], state__in=OPEN_ITEM_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), chunk_size):
        yield ids[start : start + chunk_size]


def _actor(actor: Actor, params: dict) -> Actor:
    """The API key that opened the request, when it still exists; else the job's own actor."""
    api_key = ApiKey.objects.filter(pk=params.get("api_key")).first() if params.get("api_key") else None
    return Actor.for_api_key(api_key) if api_key else actor


def erasure_request_chunk(*, ids: list[uuid.UUID], actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """Settle one chunk of items: the eligible anonymized (linked to the request), the rest waiting."""
    changed = erasure_request_items_settle(
        erasure_request_id=params["erasure_request"], item_ids=ids, actor=_actor(actor, params), via=via
    )
    return ChunkResult(changed=changed, unchanged=len(ids) - changed)


ERASURE_REQUEST_RUN = JobKind(
    name=ERASURE_REQUEST_JOB,
    label="Erasure request",
    plan=erasure_request_plan,
    run_chunk=erasure_request_chunk,
)
