"""Big work as jobs: planned into chunks of ids, run chunk by chunk by a worker.

A job kind (registered by a domain app in its AppConfig.ready()) says how to
plan a job into chunks of ids and what to do with one chunk. A worker runs a
job (`job_run`, through the procrastinate task `core.run_job` of core/tasks.py)
chunk by chunk, in number order; each chunk's work and the row that marks the
chunk done commit in one transaction, so a job stopped anywhere (a killed
worker, a cancel, a failure) keeps every chunk it finished, and running it
again starts at the first chunk not done and never does a chunk twice. The
chunk row is locked while its work runs: two runs of one job (which the
queue's lock already prevents) would still not do the same chunk.

docs/jobs.md says how workers run.
"""

import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone
from psycopg import sql

from core.audit import Actor
from core.batches import chunked
from core.errors import PrivacyError
from core.models import JOB_FINISHED, Interface, Job, JobChunk, JobStatus
from core.sql import column, table

logger = logging.getLogger(__name__)

# The procrastinate task that runs a job (core/tasks.py), deferred by its name.
RUN_JOB_TASK = "core.run_job"


@dataclass
class ChunkResult:
    """What a job kind did with one chunk."""

    changed: int
    batch_id: uuid.UUID | None = None
    unchanged: int = 0  # already as wanted (e.g. anonymized meanwhile)
    refused: int = 0  # left out: changed since the job was planned


@dataclass(frozen=True)
class JobKind:
    """A kind of job: `run_chunk(ids=..., actor=..., via=..., params=...)` does one chunk's work.

    `plan(params=..., chunk_size=...)` yields the chunks' id lists of a job
    started without ids (e.g. every record past retention); it runs in the
    worker, once per job. `run_chunk` runs inside the chunk's transaction.
    """

    name: str
    label: str
    run_chunk: Callable[..., ChunkResult]
    plan: Callable[..., Iterable[list[uuid.UUID]]] | None = None
    # The models whose rows a chunk rewrites with masked values: VACUUMed when a job of the
    # kind ends having changed settings.JOBS_VACUUM_AFTER records or more (vacuum_masked).
    masks: tuple[type, ...] = ()


_kinds: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    """Add a kind of job; domain apps call it from AppConfig.ready()."""
    _kinds[kind.name] = kind


def job_kind(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"No job kind {name!r} is registered.") from None


def job_kinds() -> dict[str, JobKind]:
    return dict(_kinds)


def job_kind_label(name: str) -> str:
    """A kind in plain words ("Retention: orders"); its name when no app registers it any more."""
    kind = _kinds.get(name)
    return kind.label if kind else name


def jobs_chunk_size() -> int:
    """Records per chunk: the JOBS_CHUNK_SIZE setting, read on each call (tests lower it)."""
    return settings.JOBS_CHUNK_SIZE


def job_start(
    *,
    kind: str,
    actor: Actor,
    via: Interface,
    ids: Iterable[uuid.UUID] | None = None,
    params: dict | None = None,
    chunk_size: int | None = None,
    defer: bool = True,
) -> Job:
    """Record a job and queue it for a worker (when the transaction commits).

    With `ids`, the job is planned now (its chunks hold those ids, in the
    order given); without, its kind's `plan` runs in the worker. With
    `defer=False` nothing is queued: the caller runs it (`job_run`).
    """
    with transaction.atomic():
        job = _job_create(kind=kind, actor=actor, via=via, params=params, chunk_size=chunk_size)
        if ids is not None:
            _write_chunks(job, chunked(list(ids), job.chunk_size))
        if defer:
            transaction.on_commit(lambda: _defer(job.pk))
    return job


def _job_create(
    *, kind: str, actor: Actor, via: Interface, params: dict | None, chunk_size: int | None
) -> Job:
    job_kind(kind)  # an unknown kind fails here, not in a worker
    return Job.objects.create(
        kind=kind,
        started_by=actor.user if getattr(actor.user, "pk", None) else None,
        actor=actor.label[:150],
        interface=via,
        params=params or {},
        chunk_size=chunk_size or jobs_chunk_size(),
    )


@dataclass
class QuerysetJobStart:
    """What `job_start_for_queryset` found and did."""

    job: Job | None  # None: nothing to do, or `keep` said no (nothing was written)
    selected: int  # records the queryset selected
    taken: int  # of them, those written into the job (its total)


def job_start_for_queryset(
    *,
    kind: str,
    actor: Actor,
    via: Interface,
    queryset: QuerySet,
    take: str,
    keep: Callable[[int, int], bool] = lambda selected, taken: True,
    params: dict | None = None,
    chunk_size: int | None = None,
) -> QuerysetJobStart:
    """Record a job over the records of a queryset that its boolean annotation `take` marks; queue it.

    The ids never come to Python: one statement reads the queryset once,
    counts its records and those `take` marks, and writes the marked ids in
    key order as the job's chunks, so starting a job over 100,000 records
    costs a few statements whatever their number (the admin's select-all
    answers at once). `keep(selected, taken)` then decides: when it says no
    (the selection is not what the caller expected) or nothing is taken,
    nothing is written and no job starts. The records are the queryset's as
    this transaction sees them; the service checks each chunk again under
    lock when it runs.
    """
    with transaction.atomic():
        job = _job_create(kind=kind, actor=actor, via=via, params=params, chunk_size=chunk_size)
        selection, selection_params = queryset.order_by().values_list("pk", take).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(_chunks_insert_sql()).format(selection=sql.SQL(selection)).as_string(),
                [*selection_params, job.pk, job.chunk_size, job.chunk_size],
            )
            selected, taken = cursor.fetchone()
        if not taken or not keep(selected, taken):
            transaction.set_rollback(True)
            return QuerysetJobStart(job=None, selected=selected, taken=taken)
        Job.objects.filter(pk=job.pk).update(total=taken, planned=True)
        job.total, job.planned = taken, True
        transaction.on_commit(lambda: _defer(job.pk))
    return QuerysetJobStart(job=job, selected=selected, taken=taken)


# A job's chunks from a SELECT of (id, take) pairs, in one statement that reads the selection
# once: the taken ids numbered in key order, CHUNK of them per row; returns how many ids the
# selection had and how many it wrote.
CHUNKS_INSERT = """
WITH selected AS MATERIALIZED (
    SELECT DISTINCT selection.id, selection.take FROM ({{selection}}) AS selection(id, take)
), numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS position FROM selected WHERE take
), written AS (
    INSERT INTO {chunk} ({job}, {number}, {ids}, {count}, {unchanged}, {refused})
    SELECT %s, position / %s + 1, array_agg(id ORDER BY id), 0, 0, 0
    FROM numbered
    GROUP BY position / %s
    RETURNING cardinality({ids}) AS size
)
SELECT (SELECT count(*) FROM selected), (SELECT coalesce(sum(size), 0)::bigint FROM written)
"""


@functools.cache
def _chunks_insert_sql() -> str:
    """CHUNKS_INSERT with JobChunk's table and columns (the selection is filled in per call)."""
    return (
        sql.SQL(CHUNKS_INSERT)
        .format(
            chunk=table(JobChunk),
            **{
                name: column(JobChunk, name)
                for name in ("job", "number", "ids", "count", "unchanged", "refused")
            },
        )
        .as_string()
    )


# Chunk rows written per INSERT while a plan is walked: the ids of a few chunks are in memory
# at once, never the whole job's (a worker stays flat over a million records).
CHUNKS_PER_INSERT = 20


def _write_chunks(job: Job, chunks: Iterable[list[uuid.UUID]]) -> None:
    total = 0
    rows = []
    for number, ids in enumerate(chunks, start=1):
        rows.append(JobChunk(job=job, number=number, ids=ids))
        total += len(ids)
        if len(rows) == CHUNKS_PER_INSERT:
            JobChunk.objects.bulk_create(rows)
            rows = []
    JobChunk.objects.bulk_create(rows)
    job.total = total
    job.planned = True
    Job.objects.filter(pk=job.pk).update(total=total, planned=True)


def jobs_runs_per_job() -> int:
    """Runs of one job that may work at once (JOBS_RUNS_PER_JOB): workers share a big job's chunks."""
    return max(1, settings.JOBS_RUNS_PER_JOB)


def _defer(job_id: uuid.UUID) -> None:
    """Queue the job's runs, JOBS_RUNS_PER_JOB of them, each its own slot.

    Per slot, the queueing lock keeps at most one run waiting and the lock one
    running; runs of different slots work at once, on different chunks (each
    run takes the next chunk no other run holds).
    """
    from procrastinate import exceptions
    from procrastinate.contrib.django import app

    for slot in range(jobs_runs_per_job()):
        name = f"job:{job_id}" if slot == 0 else f"job:{job_id}:{slot + 1}"
        # AlreadyEnqueued: a run of this slot is already waiting, and it will do the work.
        with contextlib.suppress(exceptions.AlreadyEnqueued):
            app.configure_task(name=RUN_JOB_TASK, queueing_lock=name, lock=name).defer(job_id=str(job_id))


def actor_of(job: Job) -> Actor:
    return Actor(label=job.actor, user=job.started_by)


class JobCancelled(Exception):
    """Raised between chunks when a cancel was requested."""


class JobInterrupted(Exception):
    """A run stopped between chunks (its worker is shutting down); the job is queued again."""


def job_run(
    *,
    job_id: uuid.UUID | str,
    on_chunk: Callable[[int], None] = lambda done: None,
    should_stop: Callable[[], bool] = lambda: False,
    reraise: bool = False,
) -> Job:
    """Run a job from its first chunk not done to its end (or a cancel); return it as it ends.

    Errors the queue may retry (database connection lost, ConcurrentUpdate)
    propagate with the job back in "queued"; any other error fails the job
    with its reason in `error` (and, with `reraise`, propagates: a run in the
    foreground shows it). `on_chunk` receives each chunk's size. When
    `should_stop()` (the worker is shutting down) it stops between chunks and
    raises JobInterrupted, the job back in "queued" for the next run.
    """
    job = Job.objects.select_related("started_by").get(pk=job_id)
    if job.status in JOB_FINISHED:
        return job
    if job.cancel_requested:
        return _finish(job, JobStatus.CANCELLED)
    kind = job_kind(job.kind)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=job.started_at or now, error="")
    try:
        if not job.planned:
            with transaction.atomic():
                # Locked and read again: a second run of the job (were the queue's lock lost)
                # waits here, then finds the chunks written.
                if not Job.objects.select_for_update().only("planned").get(pk=job.pk).planned:
                    _write_chunks(job, kind.plan(params=job.params, chunk_size=job.chunk_size))
        actor = actor_of(job)
        pending = job.chunks.filter(done_at__isnull=True).order_by("number").values_list("pk", flat=True)
        # First every chunk no other run of the job holds; then, waiting for their locks, the
        # chunks other runs held (done by them meanwhile, or left by a run that died).
        for skip_locked in (True, False):
            for chunk_pk in list(pending.all()):
                if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
                    raise JobCancelled
                if should_stop():
                    raise JobInterrupted
                size = _run_chunk(job, kind, actor, chunk_pk, skip_locked=skip_locked)
                on_chunk(size)
    except JobCancelled:
        return vacuum_masked(_finish(job, JobStatus.CANCELLED), kind)
    except JobInterrupted:
        Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        raise
    except Exception as exc:
        if is_transient(exc):
            Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, error=_reason(exc))
            raise
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        vacuum_masked(_finish(job, JobStatus.FAILED, error=_reason(exc)), kind)
        if reraise:
            raise
        return job
    return vacuum_masked(_finish(job, JobStatus.DONE), kind)


def _run_chunk(job: Job, kind: JobKind, actor: Actor, chunk_pk: int, *, skip_locked: bool = False) -> int:
    """One chunk's work and its done mark, in one transaction; 0 when another run did it first.

    With `skip_locked`, a chunk another run of the job holds is passed over (0) at once.
    """
    with transaction.atomic():
        # No ordering: JobChunk orders by its job, and a join would lock the job row too.
        chunk = (
            JobChunk.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .filter(pk=chunk_pk)
            .order_by()
            .first()
        )
        if chunk is None or chunk.done_at is not None:
            return 0
        result = kind.run_chunk(ids=list(chunk.ids), actor=actor, via=job.interface, params=job.params)
        JobChunk.objects.filter(pk=chunk.pk).update(
            done_at=timezone.now(),
            batch_id=result.batch_id,
            count=result.changed,
            unchanged=result.unchanged,
            refused=result.refused,
        )
        Job.objects.filter(pk=job.pk).update(done=F("done") + len(chunk.ids))
    return len(chunk.ids)


def _finish(job: Job, status: JobStatus, error: str = "") -> Job:
    Job.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), error=error)
    job.refresh_from_db()
    return job


def vacuum_masked(job: Job, kind: JobKind) -> Job:
    """VACUUM the tables a finished job masked, when it changed many records.

    An UPDATE leaves the row's old version (personal values included) in the
    table until VACUUM removes it; autovacuum gets there in its own time. A job
    that changed settings.JOBS_VACUUM_AFTER records or more runs it at once,
    once per job (not per chunk). Inside a transaction (VACUUM cannot run in
    one) or when it fails, autovacuum is left to it: the job's outcome stands.
    """
    if not kind.masks or connection.in_atomic_block:
        return job
    changed = job.chunks.aggregate(changed=Sum("count"))["changed"] or 0
    if changed < settings.JOBS_VACUUM_AFTER:
        return job
    tables = ", ".join(model._meta.db_table for model in kind.masks)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(table, kind.masks))))
    except DatabaseError:
        logger.warning("Job %s: VACUUM of %s failed; autovacuum will do it", job.pk, tables, exc_info=True)
    else:
        logger.info("Job %s changed %s records: vacuumed %s", job.pk, changed, tables)
    return job


def is_transient(exc: BaseException) -> bool:
    """Errors worth running the job again for: the database went away, or aborted a chunk as a conflict."""
    from django.db import InterfaceError, OperationalError

    from core.retry import is_transient_conflict

    return isinstance(exc, OperationalError | InterfaceError) or is_transient_conflict(exc)


def _reason(exc: BaseException) -> str:
    # A domain error's message names no personal value; a database error's may quote a row.
    if isinstance(exc, PrivacyError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (the worker's log has the details)"


def job_fail(*, job_id: uuid.UUID | str, error: str) -> Job:
    """Mark a job failed (its last run gave up); `job_retry` queues it again."""
    return _finish(Job.objects.get(pk=job_id), JobStatus.FAILED, error=error)


def job_cancel(*, job_id: uuid.UUID | str) -> Job:
    """Ask a job to stop: a queued job is cancelled at once, a running one before its next chunk."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in JOB_FINISHED:
            return job
        job.cancel_requested = True
        fields = ["cancel_requested"]
        if job.status == JobStatus.QUEUED:
            job.status, job.finished_at = JobStatus.CANCELLED, timezone.now()
            fields += ["status", "finished_at"]
        job.save(update_fields=fields)
    return job


def job_retry(*, job_id: uuid.UUID | str, defer: bool = True) -> Job:
    """Queue a failed job again; it resumes at its first chunk not done."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.FAILED:
            raise ValueError(f"Only a failed job can be retried; this one is {job.get_status_display()}.")
        job.status, job.finished_at = JobStatus.QUEUED, None
        job.save(update_fields=["status", "finished_at"])
        if defer:
            transaction.on_commit(lambda: _defer(job.pk))
    return job


@dataclass
class JobProgress:
    status: str
    done: int
    total: int | None
    rate: float | None  # records per second since the job started
    seconds_left: float | None
    changed: int
    unchanged: int
    refused: int
    batch_ids: list[uuid.UUID] = field(default_factory=list)
    error: str = ""
    cancel_requested: bool = False  # a running job asked to stop: it ends after its chunk under way


def job_progress(job: Job) -> JobProgress:
    """Where a job stands: records done of total, rate, time left, and its audit batches."""
    job.refresh_from_db()
    chunks = list(
        job.chunks.filter(done_at__isnull=False)
        .order_by("number")
        .values_list("batch_id", "count", "unchanged", "refused")
    )
    end = job.finished_at or timezone.now()
    rate = None
    if job.started_at and job.done:
        elapsed = (end - job.started_at).total_seconds()
        rate = job.done / elapsed if elapsed > 0 else None
    seconds_left = None
    if job.status in JOB_FINISHED:
        seconds_left = 0.0 if job.status == JobStatus.DONE else None
    elif rate and job.total is not None:
        seconds_left = max(job.total - job.done, 0) / rate
    return JobProgress(
        status=job.status,
        done=job.done,
        total=job.total,
        rate=rate,
        seconds_left=seconds_left,
        changed=sum(c[1] for c in chunks),
        unchanged=sum(c[2] for c in chunks),
        refused=sum(c[3] for c in chunks),
        batch_ids=[c[0] for c in chunks if c[0] is not None],
        error=job.error,
        cancel_requested=job.cancel_requested,
    )


def jobs_requeue_stalled(*, seconds_since_heartbeat: float | None = None) -> int:
    """Put back in the queue the runs of workers that stopped sending heartbeats (killed); how many.

    procrastinate leaves a killed worker's task "doing"; this hands it to any
    live worker. The job itself resumes at its first chunk not done. Sync, on
    Django's connection; `core.requeue_stalled_jobs` runs the async twin in workers.
    """
    from procrastinate import sql
    from procrastinate.contrib.django import app

    rows = app.connector.get_sync_connector().execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"],
        queue=None,
        task_name=RUN_JOB_TASK,
        seconds_since_heartbeat=_stalled_seconds(seconds_since_heartbeat),
    )
    for row in rows:
        app.job_manager.retry_job_by_id(job_id=row["id"], retry_at=timezone.now())
    return len(rows)


async def jobs_requeue_stalled_async(*, seconds_since_heartbeat: float | None = None) -> int:
    from procrastinate.contrib.django import app

    stalled = list(
        await app.job_manager.get_stalled_jobs(
            task_name=RUN_JOB_TASK, seconds_since_heartbeat=_stalled_seconds(seconds_since_heartbeat)
        )
    )
    for queued in stalled:
        await app.job_manager.retry_job(queued)
    return len(stalled)


def _stalled_seconds(seconds: float | None) -> float:
    return settings.JOBS_STALLED_SECONDS if seconds is None else seconds
