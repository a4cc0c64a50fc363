"""The procrastinate task of erasure requests: the periodic follow-up (found by procrastinate's Django app).

Its schedule is the setting ERASURE_FOLLOW_UP_CRON (hourly by default; blank
turns it off). The queueing lock keeps at most one run waiting and the lock
at most one running: two follow-ups never run at once.
"""

from django.conf import settings
from django.db import close_old_connections, connections
from procrastinate.contrib.django import app

from erasure.services import erasure_request_follow_up

FOLLOW_UP_TASK = "erasure.follow_up"


@app.task(name=FOLLOW_UP_TASK, queueing_lock=FOLLOW_UP_TASK, lock=FOLLOW_UP_TASK)
def follow_up(timestamp: int | None = None) -> int:
    close_old_connections()
    try:
        return erasure_request_follow_up()
    finally:
        connections.close_all()


if settings.ERASURE_FOLLOW_UP_CRON:
    app.periodic(cron=settings.ERASURE_FOLLOW_UP_CRON, periodic_id="erasure_follow_up")(follow_up)
