"""Jobs run by real procrastinate workers (`manage.py procrastinate worker`) on the test database.

The tests commit their rows (transaction=True) so the workers see them. A
worker is stopped at a chosen chunk by a row lock the test holds on a
record of that chunk, from a connection of its own.
"""

import signal
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from procrastinate.contrib.django import app

from core.audit import Actor
from core.jobs import RUN_JOB_TASK, job_cancel, job_progress, job_start, jobs_requeue_stalled
from core.models import AuditRecord, Interface, Job, JobChunk, JobStatus
from orders.models import Order
from orders.services import orders_anonymize
from tests.plugins.job_workers import wait_for

CHUNK = 50
ACTOR = Actor.system("tester")
PERSONAL = ("customer_name", "customer_email", "contact_name", "contact_email")

pytestmark = pytest.mark.django_db(transaction=True)


def job_ended(job):
    return lambda: (
        Job.objects.get(pk=job.pk).status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
    )


@contextmanager
def row_locked(order_id):
    """Holds a lock on one order from another connection, until the block ends."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"], port=db["PORT"]
    ) as other:
        other.execute("SELECT 1 FROM orders_order WHERE id = %s FOR UPDATE", [order_id])
        yield
        other.rollback()


@pytest.fixture
def many_orders(make_order):
    def make(n):
        return sorted(
            (make_order(addresses=n < 100, attributes={} if n >= 100 else None, items=0) for _ in range(n)),
            key=lambda o: o.pk.int,
        )

    return make


def start_job(orders, **kwargs):
    return job_start(
        kind="orders.anonymize",
        actor=ACTOR,
        via=Interface.ADMIN,
        ids=[o.pk for o in orders],
        chunk_size=CHUNK,
        **kwargs,
    )


def snapshot(order_ids):
    """What anonymizing left on each order and in its audit record, without ids."""
    orders = Order.objects.filter(pk__in=order_ids).order_by("pk")
    records = {r.record_id: r for r in AuditRecord.objects.filter(record_id__in=order_ids)}
    return sorted(
        (
            tuple(getattr(o, f) for f in PERSONAL),
            o.anonymized,
            tuple(sorted(a.first_name for a in o.addresses.all())),
            tuple(sorted(str(a.value) for a in o.custom_attributes.all())),
            tuple(records[o.pk].fields),
            records[o.pk].interface,
        )
        for o in orders
    )


def assert_each_anonymized_once(orders):
    ids = [o.pk for o in orders]
    assert not Order.objects.filter(pk__in=ids, anonymized=False).exists()
    assert AuditRecord.objects.filter(record_id__in=ids).count() == len(ids)
    assert AuditRecord.objects.filter(record_id__in=ids).values("record_id").distinct().count() == len(ids)


def test_a_worker_runs_a_job_to_the_same_result_as_the_service(make_order, start_worker):
    by_job = sorted((make_order() for _ in range(60)), key=lambda o: o.pk.int)
    by_service = [make_order() for _ in range(60)]
    job = start_job(by_job)

    start_worker()
    wait_for(job_ended(job), "the job to end")
    orders_anonymize(order_ids=[o.pk for o in by_service], actor=ACTOR, via=Interface.ADMIN)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.done, job.total) == (60, 60)
    assert_each_anonymized_once(by_job)
    assert snapshot([o.pk for o in by_job]) == snapshot([o.pk for o in by_service])
    progress = job_progress(job)
    assert len(progress.batch_ids) == 2  # two chunks, an audit batch each
    assert JobChunk.objects.filter(job=job, done_at__isnull=True).count() == 0


def test_a_killed_workers_job_is_finished_by_another_each_record_once(many_orders, start_worker):
    orders = many_orders(300)  # six chunks
    job = start_job(orders)

    with row_locked(orders[2 * CHUNK].pk):  # the third chunk waits for this lock
        first = start_worker()
        wait_for(lambda: Job.objects.get(pk=job.pk).done == 2 * CHUNK, "two chunks done")
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING  # nobody told the job

    time.sleep(1)
    assert jobs_requeue_stalled(seconds_since_heartbeat=0.5) == 1
    start_worker()
    wait_for(job_ended(job), "the job to end")

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.done == 300
    assert_each_anonymized_once(orders)
    assert AuditRecord.objects.values("batch_id").distinct().count() == 6


def test_a_cancelled_job_stops_between_chunks(many_orders, start_worker):
    orders = many_orders(300)
    job = start_job(orders)

    with row_locked(orders[2 * CHUNK].pk):
        start_worker()
        wait_for(lambda: Job.objects.get(pk=job.pk).done == 2 * CHUNK, "two chunks done")
        job_cancel(job_id=job.pk)
    wait_for(job_ended(job), "the job to end")

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.done == 3 * CHUNK  # the chunk under way when cancelled was finished, no other
    assert Order.objects.filter(anonymized=True).count() == 3 * CHUNK
    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == {
        o.pk for o in orders[: 3 * CHUNK]
    }
    assert AuditRecord.objects.count() == 3 * CHUNK


def test_two_workers_never_do_the_same_chunk(many_orders, start_worker):
    orders = many_orders(400)
    jobs = [start_job(orders[n : n + 100]) for n in range(0, 300, 100)]
    shared = start_job(orders[300:])
    # The same job queued twice without the queue's lock: both runs may start at once,
    # and only the chunks' own locks keep them apart.
    app.configure_task(name=RUN_JOB_TASK).defer(job_id=str(shared.pk))

    start_worker(), start_worker()
    for job in [*jobs, shared]:
        wait_for(job_ended(job), "every job to end")

    for job in [*jobs, shared]:
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error
        assert job.done == 100
    assert_each_anonymized_once(orders)
    assert AuditRecord.objects.values("batch_id").distinct().count() == 8  # one per chunk
    assert JobChunk.objects.filter(done_at__isnull=False).count() == 8


def test_with_two_runs_per_job_two_workers_share_one_job_and_never_do_a_chunk_twice(
    many_orders, start_worker, settings
):
    settings.JOBS_RUNS_PER_JOB = 2  # the test's: it queues the job's runs
    orders = many_orders(300)  # six chunks
    job = start_job(orders)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE args->>'job_id' = %s", [str(job.pk)])
        assert cursor.fetchone()[0] == 2

    with row_locked(orders[0].pk):  # one run waits inside the first chunk ...
        start_worker(), start_worker()
        # ... while the other does every other chunk: the job is shared, not queued behind it.
        wait_for(lambda: Job.objects.get(pk=job.pk).done == 300 - CHUNK, "five chunks done by the other run")
        assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    wait_for(job_ended(job), "the job to end")

    job.refresh_from_db()
    assert (job.status, job.done) == (JobStatus.DONE, 300), job.error
    assert_each_anonymized_once(orders)
    assert AuditRecord.objects.values("batch_id").distinct().count() == 6


def test_a_stopped_worker_gives_its_job_back_between_chunks_and_another_resumes_it(
    many_orders, start_worker, monkeypatch
):
    monkeypatch.setenv("JOBS_SHUTDOWN_SECONDS", "0.5")
    orders = many_orders(300)
    job = start_job(orders)

    with row_locked(orders[2 * CHUNK].pk):
        first = start_worker()
        wait_for(lambda: Job.objects.get(pk=job.pk).done == 2 * CHUNK, "two chunks done")
        first.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # past its graceful wait: the job is asked to stop
    assert first.wait(30) == 0

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.done == 3 * CHUNK  # the chunk under way was finished, no other begun
    assert Order.objects.filter(anonymized=True).count() == 3 * CHUNK

    start_worker()
    wait_for(job_ended(job), "the job to end")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert_each_anonymized_once(orders)


def test_an_admin_select_all_is_finished_by_a_worker_one_audit_record_and_history_entry_each(
    client, officer, many_orders, start_worker, settings
):
    from django.contrib.admin.models import LogEntry

    settings.JOBS_CHUNK_SIZE = 7  # the request's; the job keeps it for the worker
    orders = many_orders(40)
    client.force_login(officer)
    response = client.post(
        "/admin/orders/order/",
        {
            "action": "anonymize_selected_orders",
            "_selected_action": [str(orders[0].pk)],
            "select_across": "1",
            "index": "0",
            "post": "yes",
            "erasure_reference": "ADMIN-TICKET-1",
            "selected_count": "40",
        },
    )
    job = Job.objects.get()
    assert response["Location"] == f"/privacy/jobs/{job.pk}/"

    start_worker()
    wait_for(job_ended(job), "the job to end")

    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 40, 40)
    assert job.chunks.filter(done_at__isnull=False).count() == 6
    assert Order.objects.filter(anonymized=True).count() == 40
    ids = sorted(o.pk for o in orders)
    assert sorted(AuditRecord.objects.values_list("record_id", flat=True)) == ids
    assert sorted(LogEntry.objects.values_list("object_id", flat=True)) == sorted(map(str, ids))
    assert set(LogEntry.objects.values_list("user_id", flat=True)) == {officer.pk}
