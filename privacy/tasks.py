"""The procrastinate tasks of the privacy app (found by procrastinate's Django app: every app's tasks.py).

`privacy.backlog_snapshot` records the day's backlog of eligible records every hour (the
dashboard's chart). `privacy.retention_run` starts the retention run's jobs
(privacy.retention.retention_scheduled_start). It runs on the schedule
RETENTION_SCHEDULE sets (a cron line; empty, the default, leaves it off), and
never twice at once: a queueing lock keeps at most one waiting, a lock one
running, and a kind whose last job is still going gets no second one.
"""

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections
from procrastinate.contrib.django import app

from privacy.backlog import backlog_snapshot_take
from privacy.retention import retention_scheduled_start

RETENTION_TASK = "privacy.retention_run"


@app.task(name=RETENTION_TASK, queueing_lock=RETENTION_TASK, lock=RETENTION_TASK)
def retention_run(timestamp: int) -> None:
    # Sync tasks run in a worker thread: each run takes a fresh connection and gives it back.
    close_old_connections()
    try:
        retention_scheduled_start()
    finally:
        connections.close_all()


def retention_schedule_register(cron: str) -> bool:
    """Have the workers defer `retention_run` on this cron schedule; False (nothing) when empty."""
    if not cron:
        return False
    if not croniter.is_valid(cron):
        raise ImproperlyConfigured(
            f"RETENTION_SCHEDULE={cron!r} is not a cron line "
            "(five fields, e.g. '0 3 * * *': every day at 03:00 UTC)."
        )
    app.periodic(cron=cron, periodic_id="retention")(retention_run)
    return True


retention_schedule_register(settings.RETENTION_SCHEDULE)


# Every hour: the day's last run leaves that day's closing figure, and a worker
# stopped for part of a day still records the day.
@app.periodic(cron="55 * * * *", periodic_id="backlog_snapshot")
@app.task(name="privacy.backlog_snapshot", queueing_lock="privacy.backlog_snapshot")
def backlog_snapshot(timestamp: int) -> None:
    # Sync tasks run in a worker thread: each run takes a fresh connection and gives it back.
    close_old_connections()
    try:
        backlog_snapshot_take()
    finally:
        connections.close_all()
