"""The procrastinate tasks of the kernel (found by procrastinate's Django app: every app's tasks.py).

`core.run_job` runs one job (core/jobs.py); `core.requeue_stalled_jobs`,
every minute, hands the runs of killed workers back to the queue;
`core.prune_throttle_counts`, hourly, deletes the API's throttle counts whose
window has ended (core/throttling.py).
"""

from django.db import close_old_connections, connections
from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app

from core.jobs import (
    RUN_JOB_TASK,
    JobInterrupted,
    is_transient,
    job_fail,
    job_run,
    jobs_requeue_stalled_async,
)
from core.throttling import throttle_counts_prune

RUN_JOB_ATTEMPTS = 5


class TransientJobError(Exception):
    """Raised for procrastinate to run the job again later (a lost connection, a conflict, a shutdown)."""


@app.task(
    name=RUN_JOB_TASK,
    pass_context=True,
    retry=RetryStrategy(
        max_attempts=RUN_JOB_ATTEMPTS, exponential_wait=2, retry_exceptions={TransientJobError}
    ),
)
def run_job(context: JobContext, job_id: str) -> None:
    # Sync tasks run in a worker thread: each run takes a fresh connection and gives it back.
    close_old_connections()
    try:
        # A worker told to stop (SIGTERM, Ctrl-C) asks its running jobs to abort once its
        # graceful wait is over: the job stops between chunks and goes back to the queue.
        job_run(job_id=job_id, should_stop=context.should_abort)
    except JobInterrupted as exc:
        raise TransientJobError("worker shutting down") from exc
    except Exception as exc:
        if not is_transient(exc):
            raise
        if context.job.attempts + 1 >= RUN_JOB_ATTEMPTS:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}, {RUN_JOB_ATTEMPTS} times")
            raise
        raise TransientJobError(type(exc).__name__) from exc
    finally:
        connections.close_all()


@app.periodic(cron="* * * * *", periodic_id="requeue_stalled")
@app.task(name="core.requeue_stalled_jobs", queueing_lock="core.requeue_stalled_jobs")
async def requeue_stalled_jobs(timestamp: int) -> None:
    await jobs_requeue_stalled_async()


PRUNE_THROTTLE_COUNTS_TASK = "core.prune_throttle_counts"


@app.periodic(cron="17 * * * *", periodic_id="prune_throttle_counts")
@app.task(name=PRUNE_THROTTLE_COUNTS_TASK, queueing_lock=PRUNE_THROTTLE_COUNTS_TASK)
def prune_throttle_counts(timestamp: int) -> None:
    # A client seen once (an address trying the token endpoint) leaves no row for long.
    close_old_connections()
    try:
        throttle_counts_prune()
    finally:
        connections.close_all()
