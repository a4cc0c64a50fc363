"""Bounded retry of a service whose transaction the database chose to abort.

The anonymizing services lock rows in primary-key order, so they never
deadlock one another; but another program's transaction (or a future isolation
level) can still make PostgreSQL abort one of them with a deadlock or a
serialization failure. Nothing was changed then, and running the service again
is safe. A service called inside an outer transaction cannot be retried here
(the outer transaction is already lost), so the failure becomes
ConcurrentUpdate, a domain error every interface can show (the API as a 409).
"""

import functools
import random
import time

from django.db import DatabaseError, transaction

from core.errors import ConcurrentUpdate

ATTEMPTS = 3
# PostgreSQL's SQLSTATEs for "the transaction was aborted, run it again".
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def is_transient_conflict(exc: BaseException) -> bool:
    if isinstance(exc, ConcurrentUpdate):
        return True
    if not isinstance(exc, DatabaseError):
        return False
    return getattr(exc.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_conflict(service):
    """Run `service` again (at most ATTEMPTS times) when the database aborted it as a conflict.

    Other errors pass through untouched. Inside an outer transaction, or when
    the attempts run out, a conflict is raised as ConcurrentUpdate (from the
    database error).
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        if transaction.get_connection().in_atomic_block:
            try:
                return service(*args, **kwargs)
            except DatabaseError as exc:
                if is_transient_conflict(exc):
                    raise ConcurrentUpdate() from exc
                raise
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return service(*args, **kwargs)
            except (DatabaseError, ConcurrentUpdate) as exc:
                if not is_transient_conflict(exc):
                    raise
                if attempt == ATTEMPTS:
                    if isinstance(exc, ConcurrentUpdate):
                        raise
                    raise ConcurrentUpdate() from exc
                # A short random pause, so two retrying callers do not collide again in step.
                time.sleep(random.uniform(0, 0.05 * attempt))  # noqa: S311 - jitter, not security
        raise AssertionError("unreachable")

    return run
