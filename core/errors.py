"""The domain's errors: one small hierarchy with machine-readable codes.

The API's exception handler turns them into EPCC's error envelope, the admin
and the pages into messages. Message templates are constants tests assert on.
"""

from dataclasses import dataclass, field

ORDERS_TITLE = "Could not anonymize orders"
NOT_FOUND_TITLE = "Not Found"
ORDER_NOT_ELIGIBLE_DETAIL = (
    "Order has status: order:{status}, payment:{payment}, shipping:{shipping}; "
    "only fulfilled or refunded or cancelled orders may be anonymized"
)
ORDER_ON_HOLD_DETAIL = (
    "Order is under legal hold until {until} ({reason}); it may not be anonymized while the hold lasts"
)
ORDER_NOT_FOUND_DETAIL = "No order found with id {id}"
USAGE_NOT_FOUND_DETAIL = "No code usage found with id {id}"


@dataclass(frozen=True)
class Problem:
    """One reason one record of a batch cannot be anonymized."""

    code: str  # "not_found", "not_eligible" or "legal_hold"
    status: int  # the HTTP status EPCC gives this problem
    title: str
    detail: str
    meta: dict = field(default_factory=dict)


class PrivacyError(Exception):
    code = "privacy_error"
    status = 400


class BatchRefused(PrivacyError):
    """A batch with at least one unknown or refused record: nothing changed.

    Its status is 404 when any record is unknown, else 422; every problem is listed.
    """

    code = "batch_refused"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.status = 404 if any(p.status == 404 for p in problems) else 422
        super().__init__(f"{len(problems)} record(s) could not be anonymized")


CONCURRENT_UPDATE_DETAIL = (
    "The records were being changed by another request at the same time; nothing was changed, try again"
)


class ConcurrentUpdate(PrivacyError):
    """The database gave up on a batch (deadlock or serialization failure) it could not retry.

    Nothing changed. Raised by core.retry inside an outer transaction, or after
    its bounded retries; the API answers 409.
    """

    code = "conflict"
    status = 409

    def __init__(self, detail: str = CONCURRENT_UPDATE_DETAIL):
        self.detail = detail
        super().__init__(detail)
