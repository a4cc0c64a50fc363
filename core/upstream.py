"""The outbox to the EPCC store: is a store configured, what state each record's push is in,
and the officer's retry of failed pushes.

The outbox rows themselves are written by core.audit with the audit records of an
anonymization (same transaction, one statement); the connector app sends them
(connector/push.py) through the procrastinate task PUSH_TASK, which this module
queues by name (the kernel imports no app).
"""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from core.models import UpstreamPush, UpstreamState
from core.sql import column, table

PUSH_TASK = "connector.push_upstream"

logger = logging.getLogger(__name__)


def upstream_configured() -> bool:
    """A store is configured: its base URL, client id and secret are all set."""
    return all(
        getattr(settings, name, "") for name in ("EPCC_API_BASE_URL", "EPCC_CLIENT_ID", "EPCC_CLIENT_SECRET")
    )


def upstream_push_defer(*, schedule_in: float | None = None) -> None:
    """Queue a run of the push job; one waits at most (its queueing lock), one runs at a time."""
    from procrastinate import exceptions
    from procrastinate.contrib.django import app

    options = {"schedule_in": {"seconds": schedule_in}} if schedule_in else {}
    task = app.configure_task(name=PUSH_TASK, queueing_lock=PUSH_TASK, lock=PUSH_TASK, **options)
    try:
        task.defer()
    except exceptions.AlreadyEnqueued:
        pass  # a run is already waiting, and it will send these rows too
    except Exception:
        # Called after the anonymization committed: it stands, and its rows wait in the
        # outbox; the workers' minutely connector.push_due queues the push.
        logger.warning("Could not queue the push to the EPCC store; the next minutely check will.")


@dataclass(frozen=True)
class UpstreamStatus:
    state: str
    error: str
    attempts: int
    at: object  # when it was written, or when it ended

    @property
    def label(self) -> str:
        return UpstreamState(self.state).label


# The latest outbox row of each record named (a record is pushed again only after a retry,
# which reuses its row, so "latest" is the only one in practice).
LATEST_STATES = """
SELECT DISTINCT ON ({record_id}) {record_id}, {state}, {error}, {attempts},
       COALESCE({finished_at}, {created_at})
FROM {outbox}
WHERE {record_type} = %(record_type)s AND {record_id} = ANY(%(ids)s::uuid[])
ORDER BY {record_id}, {id} DESC
"""


def upstream_states(record_type: str, ids) -> dict[uuid.UUID, UpstreamStatus]:
    """Each record's push to the store (pending, done, failed upstream and why), by id; one query.

    Records never pushed (anonymized before a store was configured, or not
    anonymized) are absent.
    """
    ids = [str(pk) for pk in ids]
    if not ids:
        return {}
    statement = sql.SQL(LATEST_STATES).format(
        outbox=table(UpstreamPush),
        **{
            name: column(UpstreamPush, name)
            for name in ("id", "record_id", "record_type", "state", "error", "attempts", "finished_at")
        },
        created_at=column(UpstreamPush, "created_at"),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(), {"record_type": record_type, "ids": ids})
        return {row[0]: UpstreamStatus(*row[1:]) for row in cursor.fetchall()}


def upstream_push_retry(*, push_ids) -> int:
    """Send failed pushes again (the officer's retry): they become pending, due now; how many.

    Pushes not failed are left as they are.
    """
    with transaction.atomic():
        count = (
            UpstreamPush.objects.filter(pk__in=list(push_ids), state=UpstreamState.FAILED)
            .order_by()
            .update(state=UpstreamState.PENDING, attempts=0, error="", next_attempt_at=timezone.now())
        )
        if count:
            transaction.on_commit(upstream_push_defer)
    return count


NOT_PUSHED = "Not sent to the store (no store was configured when it changed, or it is not anonymized)"


def upstream_state_text(status: UpstreamStatus | None) -> str:
    """A record's push in plain words, for the admin and the pages."""
    if status is None:
        return NOT_PUSHED
    if status.state == UpstreamState.DONE:
        return "Done: anonymized in the store"
    if status.state == UpstreamState.FAILED:
        return f"Failed upstream: {status.error}"
    tried = f" ({status.attempts} attempts so far; {status.error})" if status.attempts else ""
    return f"Pending: to be sent to the store{tried}"
