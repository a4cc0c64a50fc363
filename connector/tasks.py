"""The connector's procrastinate tasks: the push of the outbox, and sync_ep as a periodic job.

`connector.push_upstream` is queued when an anonymization commits (core.upstream)
and after an officer's retry; when the store cannot be reached it queues itself
again for when the backoff ends. Every minute `connector.push_due` queues it when
pending pushes are due (a worker that was down, a queue that lost a run). With
settings.EPCC_SYNC_CRON set, `connector.sync` runs sync_ep on that schedule.
"""

import logging

from django.conf import settings
from django.db import close_old_connections, connections
from procrastinate.contrib.django import app

from connector.client import StoreClient, StoreError
from connector.push import upstream_push_run
from connector.sync import sync_run
from core.models import UpstreamPush, UpstreamState
from core.upstream import PUSH_TASK, upstream_configured, upstream_push_defer

logger = logging.getLogger(__name__)


@app.task(name=PUSH_TASK, lock=PUSH_TASK, queueing_lock=PUSH_TASK)
def push_upstream() -> None:
    close_old_connections()
    try:
        if not upstream_configured():
            return
        with StoreClient.from_settings() as client:
            result = upstream_push_run(client=client)
        logger.info("Pushed to the store: %s done, %s failed upstream", result.done, result.failed)
        if result.retry_in is not None:
            logger.warning(
                "The store could not be reached (%s); next try in %.0fs", result.reason, result.retry_in
            )
            upstream_push_defer(schedule_in=result.retry_in)
    finally:
        connections.close_all()


@app.periodic(cron="* * * * *", periodic_id="connector_push_due")
@app.task(name="connector.push_due", queueing_lock="connector.push_due")
def push_due(timestamp: int) -> None:
    close_old_connections()
    try:
        if upstream_configured() and UpstreamPush.objects.filter(state=UpstreamState.PENDING).exists():
            upstream_push_defer()
    finally:
        connections.close_all()


@app.task(name="connector.sync", lock="connector.sync", queueing_lock="connector.sync")
def sync(timestamp: int | None = None) -> None:
    close_old_connections()
    try:
        with StoreClient.from_settings() as client:
            result = sync_run(client=client)
        logger.info("Synced from the store: %s orders, %s usages", result.orders, result.usages)
    except StoreError as error:
        logger.error("sync_ep failed: %s", error)
        raise
    finally:
        connections.close_all()


if settings.EPCC_SYNC_CRON:
    app.periodic(cron=settings.EPCC_SYNC_CRON, periodic_id="connector_sync")(sync)
