"""The privacy pages' one write: fulfilling an erasure request.

It adds nothing to the rules: it records the request and calls the same
anonymizing services as every other interface, inside one transaction.
"""

from collections.abc import Iterable

from django.db import transaction

from core.audit import Actor
from core.errors import PrivacyError
from core.models import ErasureRequest, Interface
from core.retry import retry_on_conflict
from orders.services import orders_anonymize
from promotions.services import usages_anonymize

REFERENCE_MAX_LENGTH = ErasureRequest._meta.get_field("reference").max_length
NOTHING_TO_ERASE = "Every selected record was already anonymized; no erasure request was recorded."


class NothingToErase(PrivacyError):
    """Every record of a request was already anonymized (a form sent twice, or erased meanwhile)."""

    code = "nothing_to_erase"


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
    unknown or may not be anonymized, and NothingToErase (nothing recorded)
    when every record was already anonymized.
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
        changed = 0
        if order_ids:
            changed += len(
                orders_anonymize(
                    order_ids=order_ids, actor=actor, via=Interface.WEB, erasure_request=erasure_request
                ).changed
            )
        if usage_ids:
            changed += len(
                usages_anonymize(
                    usage_ids=usage_ids, actor=actor, via=Interface.WEB, erasure_request=erasure_request
                ).changed
            )
        if not changed:
            # Rolls the request back: a receipt for nothing would only duplicate the first one.
            raise NothingToErase(NOTHING_TO_ERASE)
    return erasure_request
