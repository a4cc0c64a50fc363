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

# The same refusals in plain words, with the next step, for people (the admin and
# the privacy pages); the API keeps EPCC's exact `detail` above. Every page reads
# `Problem.plain`, so this is the one place the wording lives.
ORDER_NOT_ELIGIBLE_PLAIN = (
    "Not yet: this order is still open ({state}). It can be anonymized once it has shipped; "
    "to anonymize it sooner, cancel or refund it in EPCC first, then try again."
)
ORDER_ON_HOLD_PLAIN = (
    "Not while the legal hold lasts (until {until}: {reason}). "
    "Try again when it ends, or release the hold on the order's page if it no longer applies."
)
ORDER_NOT_FOUND_PLAIN = "This order no longer exists here (deleted or never imported from EPCC)."
USAGE_NOT_FOUND_PLAIN = "This code usage no longer exists here (deleted or never imported from EPCC)."

# EPCC's status values as a sentence reads them ("complete, paid, not shipped").
STATUS_WORDS = {
    "incomplete": "not completed",
    "complete": "complete",
    "processing": "being processed",
    "cancelled": "cancelled",
    "unpaid": "unpaid",
    "authorized": "payment authorized",
    "paid": "paid",
    "refunded": "refunded",
    "partially_paid": "partly paid",
    "partially_authorized": "payment partly authorized",
    "unfulfilled": "not shipped",
    "fulfilled": "shipped",
}


def order_state_words(*, status: str, payment: str, shipping: str) -> str:
    """An order's three statuses as words: "complete, paid, not shipped"."""
    return ", ".join(
        STATUS_WORDS.get(value, value.replace("_", " ")) for value in (status, payment, shipping)
    )


@dataclass(frozen=True)
class Problem:
    """One reason one record of a batch cannot be anonymized."""

    code: str  # "not_found", "not_eligible" or "legal_hold"
    status: int  # the HTTP status EPCC gives this problem
    title: str
    detail: str  # EPCC's exact text: the API's error envelope
    meta: dict = field(default_factory=dict)
    # The same in plain words with the next step, for pages (ORDER_*_PLAIN above).
    plain: str = ""

    def __str__(self):
        return self.plain or self.detail


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
