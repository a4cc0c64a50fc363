"""How the admin's "Anonymize selected" files its anonymizations under an erasure request.

The kernel's admin plumbing (core/admin_actions.py) must not import the
erasure app above it; the erasure app registers its two services here from
ErasureConfig.ready(), as domain apps register job kinds (core/jobs.py).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from core.audit import Actor
from core.models import ErasureRequest


@dataclass(frozen=True)
class ErasureFiling:
    # (reference, actor) -> a new request without a known subject.
    open: Callable[..., ErasureRequest]
    # (erasure_request, record_type, record_ids, batch_id) -> the records filed as anonymized items.
    record: Callable[..., int]


_filing: ErasureFiling | None = None


def erasure_filing_register(filing: ErasureFiling) -> None:
    global _filing  # noqa: PLW0603 - one registration at start, like the job kinds
    _filing = filing


def erasure_filing() -> ErasureFiling:
    if _filing is None:
        raise LookupError("No app registers how anonymizations are filed under erasure requests.")
    return _filing


def erasure_request_for_admin(
    *, request_id: str, reference: str, actor: Actor
) -> tuple[ErasureRequest, bool]:
    """The request an admin anonymization is filed under, and whether it is new: an open one chosen,
    or a new one opened with the reference.

    Raises ValueError with a sentence for the page when neither is given, or
    the chosen one is unknown or closed.
    """
    request_id, reference = (request_id or "").strip(), (reference or "").strip()
    if request_id:
        try:
            return ErasureRequest.objects.not_closed().get(pk=uuid.UUID(request_id)), False
        except (ValueError, ErasureRequest.DoesNotExist):
            raise ValueError("That erasure request is closed or no longer exists; choose another.") from None
    if not reference:
        raise ValueError(ADMIN_REQUEST_REQUIRED)
    return erasure_filing().open(reference=reference, actor=actor), True


ADMIN_REQUEST_REQUIRED = (
    "Choose the erasure request these records are anonymized for, or give a new request's reference."
)
