"""`make bench` parts 5, 7 and 8: big work as jobs run by real workers (issue 13, docs/jobs.md).

5. The admin's select-all "Anonymize selected orders" over exactly N eligible orders: the
   POST that starts the job (its time), then the job's rate on one worker against a floor
   of hand-written SQL that also writes the audit and admin history rows, the two taking
   turns on the same rows (floor, job, floor).
7. A retention run over every order (200,000 in the bench's data) with two workers
   against one (two, one, two), JOBS_RUNS_PER_JOB = 2.
8. A worker's peak RSS (VmHWM) over a retention run of every code usage (1,000,000),
   beside the same over 10,000.

Workers are `manage.py procrastinate worker --concurrency 1` processes on the bench
database, one per measurement; a job's time is its own (finished - started, both stamped
by the worker). Rows a part anonymizes are put back afterwards (untimed).
"""

import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.run import (
    BENCH_PASSWORD,
    HOST,
    ORDER_TABLES,
    PORT,
    ROOT,
    Row,
    orders_anonymize_raw_sql,
    orders_eligible,
    orders_restore,
    report,
    server_environment,
    timed,
    usages_restore,
    vacuum_analyze,
)

JOB_WAIT_SECONDS = 900


# --- Workers ------------------------------------------------------------------


def worker_start(database_url: str, log: Path) -> subprocess.Popen:
    """One `procrastinate worker` process (one job at a time) on the bench database."""
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "procrastinate", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=server_environment(database_url),
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def peak_rss_mb(process: subprocess.Popen) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def workers_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def job_wait(job_id) -> "object":
    """The job once it ended (polled every 0.2 s, untimed: its own timestamps are the measure)."""
    from core.models import JOB_FINISHED, Job

    deadline = time.monotonic() + JOB_WAIT_SECONDS
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in JOB_FINISHED:
            if job.status != "done":
                raise RuntimeError(f"job {job.pk} ended {job.status}: {job.error}")
            return job
        time.sleep(0.2)
    raise RuntimeError(f"job {job_id} did not end in {JOB_WAIT_SECONDS} s")


def job_seconds(job) -> float:
    return (job.finished_at - job.started_at).total_seconds()


def run_on_workers(database_url: str, start_job, workers: int, log: Path):
    """Start the job (queued), run it on `workers` fresh processes, stop them; (job, peak RSS MB each)."""
    job = start_job()
    processes = [worker_start(database_url, log) for _ in range(workers)]
    try:
        job = job_wait(job.pk)
        rss = [peak_rss_mb(process) for process in processes]
    finally:
        workers_stop(processes)
    return job, rss


# --- The floor of part 5: masking, audit records and admin history in hand-written SQL ----


def orders_anonymize_raw_sql_with_records(
    ids: list, batch: int, user_id: int, content_type_id: int, request_id: uuid.UUID
) -> None:
    """Per batch, one transaction: part 1's three UPDATEs, one audit INSERT, one admin history INSERT,
    one INSERT of the erasure request's items (every admin anonymization is filed under a request)."""
    from django.db import connection, transaction

    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        params = {
            "ids": "{" + ",".join(map(str, part)) + "}",
            "user": user_id,
            "content_type": content_type_id,
            "batch": uuid.uuid4(),
            "request": request_id,
        }
        with transaction.atomic():
            orders_anonymize_raw_sql(part, len(part))
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO core_auditrecord (at, action, actor, actor_user_id, interface, record_type,"
                    " record_id, fields, batch_id, note)"
                    " SELECT now(), 'anonymize', 'bench', %(user)s, 'admin', 'order', id,"
                    " '[\"contact_email\", \"customer_email\"]'::jsonb, %(batch)s, ''"
                    " FROM unnest(%(ids)s::uuid[]) AS id",
                    params,
                )
                cursor.execute(
                    "INSERT INTO django_admin_log (action_time, user_id, content_type_id, object_id,"
                    " object_repr, action_flag, change_message)"
                    " SELECT now(), %(user)s, %(content_type)s, id::text, 'Order ' || id, 2,"
                    " 'Anonymized (bench)'"
                    " FROM unnest(%(ids)s::uuid[]) AS id",
                    params,
                )
                cursor.execute(
                    "INSERT INTO erasure_erasurerequestitem (id, request_id, record_type, record_id, state,"
                    " wait_reason, reason, batch_id, created_at, updated_at, anonymized_at)"
                    " SELECT gen_random_uuid(), %(request)s, 'order', id, 'anonymized', '', '', %(batch)s,"
                    " now(), now(), now()"
                    " FROM unnest(%(ids)s::uuid[]) AS id",
                    params,
                )


def orders_put_back(ids: list) -> None:
    orders_restore(ids)
    vacuum_analyze(*ORDER_TABLES, "core_auditrecord", "django_admin_log")


# --- Part 5 -------------------------------------------------------------------


def part_admin_job(database_url: str, size: int, log: Path) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from bench.http import Client, NotAvailable, login
    from core.models import ErasureRequest, Job
    from orders.models import Order

    client = Client(HOST, PORT, timeout=900)
    try:
        login(client, "/admin/login/?next=/admin/", "bench", BENCH_PASSWORD)
    except NotAvailable:
        report(Row("5", "admin select-all anonymize", "not available yet (404)"))
        return
    changelist = "/admin/orders/order/?can_be_anonymized=yes"
    # Exactly `size` eligible orders: the surplus is parked in a status that does not allow it.
    eligible = orders_eligible(10**9)
    selected, surplus = eligible[:size], eligible[size:]
    parked = list(Order.objects.filter(pk__in=surplus).values_list("pk", "status", "payment", "shipping"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET status = 'processing', payment = 'paid', shipping = 'unfulfilled' "
            "WHERE id = ANY(%s::uuid[])",
            [[str(pk) for pk in surplus]],
        )
    vacuum_analyze("orders_order")
    user = get_user_model().objects.get(username="bench")
    content_type = ContentType.objects.get_for_model(Order).pk
    chunk = settings.JOBS_CHUNK_SIZE
    try:
        floor_request = ErasureRequest.objects.create(reference="BENCH-FLOOR", created_by=user).pk
        floors = [
            timed(
                orders_anonymize_raw_sql_with_records, selected, chunk, user.pk, content_type, floor_request
            )
        ]
        orders_put_back(selected)
        form = {
            "action": "anonymize_selected_orders",
            "select_across": "1",
            "index": "0",
            "_selected_action": str(selected[0]),
            "selected_count": str(len(selected)),
            "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
        }
        headers = {"Referer": f"http://{HOST}:{PORT}{changelist}"}
        confirm = client.request("POST", changelist, form=form, headers=headers)
        started = {}

        def start_job():
            started["response"] = client.request(
                # Every admin anonymization is filed under an erasure request (a new one here).
                "POST",
                changelist,
                form={**form, "post": "yes", "erasure_reference": "BENCH-ADMIN-1"},
                headers=headers,
            )
            location = started["response"].headers.get("Location", "")
            if started["response"].status != 302 or "/privacy/jobs/" not in location:
                raise RuntimeError(f"the POST answered {started['response'].status}, Location {location!r}")
            return Job.objects.get(pk=location.rstrip("/").rsplit("/", 1)[1])

        job, _ = run_on_workers(database_url, start_job, 1, log)
        anonymized = Order.objects.filter(pk__in=selected, anonymized=True).count()
        orders_put_back(selected)
        floor_request = ErasureRequest.objects.create(reference="BENCH-FLOOR-2", created_by=user).pk
        floors.append(
            timed(
                orders_anonymize_raw_sql_with_records, selected, chunk, user.pk, content_type, floor_request
            )
        )
    finally:
        orders_put_back(selected)
        with transaction.atomic(), connection.cursor() as cursor:
            for pk, status, payment, shipping in parked:
                cursor.execute(
                    "UPDATE orders_order SET status = %s, payment = %s, shipping = %s WHERE id = %s",
                    [status, payment, shipping, pk],
                )
        vacuum_analyze("orders_order")
    post = started["response"]
    if anonymized != len(selected):
        report(
            Row(
                "5",
                f"admin select-all as a job ({len(selected):,} orders)",
                f"failed: {anonymized:,} anonymized",
            )
        )
        return
    report(
        Row(
            "5",
            f"admin select-all 'Anonymize selected orders', {len(selected):,} eligible orders: the POST that "
            "starts the job",
            f"{post.seconds:.2f} s (redirect to the job page)",
            f"its confirmation page: {confirm.seconds:.2f} s",
            "",
            "< 1 s",
            "met" if post.seconds < 1 else "MISSED",
        )
    )
    floor = sum(floors) / len(floors)
    rate, floor_rate = len(selected) / job_seconds(job), len(selected) / floor
    report(
        Row(
            "5",
            f"that job on one worker, chunks of {chunk}: orders anonymized/s with audit and admin history",
            f"{rate:,.0f}/s ({job_seconds(job):.1f} s)",
            f"raw SQL, 3 UPDATEs + audit, history and request item INSERTs per {chunk}: {floor_rate:,.0f}/s "
            f"({' and '.join(f'{f:.1f}' for f in floors)} s, before and after)",
            f"{rate / floor_rate:.2f}x raw SQL",
            ">= 0.5x raw SQL",
            "met" if rate >= 0.5 * floor_rate else "MISSED",
        )
    )


# --- Part 7 -------------------------------------------------------------------


def part_retention_workers(database_url: str, log: Path) -> None:
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from core.audit import Actor
    from orders.models import Order
    from privacy.retention import retention_start

    total = Order.objects.count()
    before = set(Order.objects.filter(anonymized=True).values_list("pk", flat=True))
    settings.JOBS_RUNS_PER_JOB = 2  # this process queues the runs: two may share the job

    def start_job():
        return retention_start(
            record_type="orders", cutoff=timezone.now() + timedelta(days=1), actor=Actor.system("bench")
        )

    seconds = {1: [], 2: []}
    changed = 0
    # Taking turns (two, one, two): the first run meets a cold cache, and that counts against two.
    for workers in (2, 1, 2):
        job, _ = run_on_workers(database_url, start_job, workers, log)
        seconds[workers].append(job_seconds(job))
        ids = list(Order.objects.filter(anonymized=True).exclude(pk__in=before).values_list("pk", flat=True))
        changed = len(ids)
        orders_put_back(ids)
    one, two = (sum(seconds[n]) / len(seconds[n]) for n in (1, 2))
    report(
        Row(
            "7",
            f"retention run over {total:,} orders ({changed:,} anonymized), "
            f"chunks of {settings.JOBS_CHUNK_SIZE}, two workers (JOBS_RUNS_PER_JOB=2)",
            f"{two:.1f} s ({changed / two:,.0f}/s; {' and '.join(map('{:.1f}'.format, seconds[2]))} s)",
            f"one worker: {one:.1f} s",
            f"{one / two:.2f}x faster with two",
            "> 1x",
            "met" if one / two > 1 else "MISSED",
        )
    )


# --- Part 8 -------------------------------------------------------------------


def part_worker_memory(database_url: str, sizes: tuple[int, int], log: Path) -> None:
    from datetime import timedelta

    from core.audit import Actor
    from privacy.retention import retention_start
    from promotions.models import CodeUsage

    candidates = CodeUsage.objects.filter(anonymized=False).order_by("used_on", "pk")
    peaks = {}
    for size in sizes:
        last = candidates.values_list("used_on", flat=True)[min(size, candidates.count()) - 1]
        cutoff = last + timedelta(microseconds=1)
        count = candidates.filter(used_on__lt=cutoff).count()

        def start_job(cutoff=cutoff):
            return retention_start(record_type="usages", cutoff=cutoff, actor=Actor.system("bench"))

        job, [rss] = run_on_workers(database_url, start_job, 1, log)
        peaks[count] = (rss, job_seconds(job))
        ids = list(job_changed_ids(job))
        usages_restore(ids)
        vacuum_analyze("promotions_codeusage", "core_auditrecord")
    (small, (small_rss, _)), (large, (large_rss, large_seconds)) = sorted(peaks.items())
    report(
        Row(
            "8",
            f"a worker's peak RSS over a retention run of {large:,} code usages",
            f"{large_rss:.0f} MB ({large_seconds:.0f} s)",
            f"the same over {small:,} usages: {small_rss:.0f} MB",
            f"{large_rss / small_rss:.2f}x for {large / small:,.0f}x the usages",
            "flat",
            "met" if large_rss < 1.5 * small_rss else "MISSED",
        )
    )


def job_changed_ids(job):
    """Every id of a job's chunks (the records it anonymized, and those it found done or refused)."""
    for ids in job.chunks.values_list("ids", flat=True).iterator(chunk_size=50):
        yield from ids


# --- Hook ---------------------------------------------------------------------


def run_parts(parts: set[str], *, database_url: str, quick: bool) -> None:
    """The parts of this module that `parts` names (bench/run.py calls it after starting gunicorn)."""
    log = Path(tempfile.gettempdir()) / f"bench-workers-{uuid.uuid4().hex[:8]}.log"
    print(f"  (workers log to {log})", flush=True)
    if "5" in parts:
        part_admin_job(database_url, 5_000 if quick else 100_000, log)
    if "7" in parts:
        part_retention_workers(database_url, log)
    if "8" in parts:
        part_worker_memory(database_url, (1_000, 20_000) if quick else (10_000, 1_000_000), log)
