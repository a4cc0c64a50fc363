"""Anonymizations filed under an erasure request, as the pages' request job files them (for tests
that need history under a request without running the request's job)."""

from core.models import ErasureRequest, Interface
from orders.services import orders_anonymize
from promotions.services import usages_anonymize


def erasure_request_fulfil(*, reference, order_ids, usage_ids, actor) -> ErasureRequest:
    erasure_request = ErasureRequest.objects.create(reference=reference, created_by=actor.user)
    if order_ids:
        orders_anonymize(order_ids=order_ids, actor=actor, via=Interface.WEB, erasure_request=erasure_request)
    if usage_ids:
        usages_anonymize(usage_ids=usage_ids, actor=actor, via=Interface.WEB, erasure_request=erasure_request)
    return erasure_request
