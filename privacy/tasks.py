"""The procrastinate tasks of the privacy pages (procrastinate's Django app finds every app's tasks.py)."""

from django.db import close_old_connections, connections
from procrastinate.contrib.django import app

from privacy.backlog import backlog_snapshot_take


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
