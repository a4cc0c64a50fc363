"""The privacy pages' one write: fulfilling an erasure request.

It adds nothing to the rules: it records the request and calls the same
anonymizing services as every other interface, inside one transaction.
"""

from collections.abc import Iterable

from django.db import transaction

from core.audit import Actor
from core.models import ErasureRequest, Interface
from core.retry import retry_on_conflict
from orders.services import orders_anonymize
from promotions.services import usages_anonymize

REFERENCE_MAX_LENGTH = ErasureRequest._meta.get_field("reference").max_length


# The outermost transaction of an erasure, so the one place a database conflict can be retried.
@retry_on_conflict
def erasure_request_fulfil(
    *, reference: str, order_ids: Iterable, usage_ids: Iterable, actor: Actor
) -> ErasureRequest:
    """Anonymize these orders and usages as one erasure request, all of them or none.

    Creates the ErasureRequest (the officer's reference, never who the subject
    is) and links every audit record the anonymizing services write to it.
    Raises ValueError without a reference or without any record, and
    BatchRefused (nothing changed, no request recorded) when any record is
    unknown or may not be anonymized.
    """
    reference = (reference or "").strip()
    order_ids, usage_ids = list(order_ids), list(usage_ids)
    if not reference:
        raise ValueError("An erasure request needs a reason or ticket reference.")
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise ValueError(f"A reference has at most {REFERENCE_MAX_LENGTH} characters.")
    if not order_ids and not usage_ids:
        raise ValueError("An erasure request needs at least one record.")
    with transaction.atomic():
        erasure_request = ErasureRequest.objects.create(
            reference=reference,
            created_by=actor.user if getattr(actor.user, "pk", None) else None,
        )
        if order_ids:
            orders_anonymize(
                order_ids=order_ids, actor=actor, via=Interface.WEB, erasure_request=erasure_request
            )
        if usage_ids:
            usages_anonymize(
                usage_ids=usage_ids, actor=actor, via=Interface.WEB, erasure_request=erasure_request
            )
    return erasure_request
