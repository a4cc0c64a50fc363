"""The job engine (core/jobs.py) run in the test's process: chunks, resume, cancel, retry, progress."""

from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection

from core.audit import Actor
from core.jobs import job_cancel, job_progress, job_retry, job_run, job_start
from core.models import AuditRecord, Interface, Job, JobChunk, JobStatus
from orders.models import LegalHold, Order
from promotions.models import CodeUsage

ACTOR = Actor.system("tester")


class Interrupted(Exception):
    pass


@pytest.fixture
def orders(make_order):
    return sorted((make_order(addresses=False, items=0) for _ in range(7)), key=lambda o: o.pk.int)


def start(ids, **kwargs):
    return job_start(
        kind="orders.anonymize",
        actor=ACTOR,
        via=Interface.ADMIN,
        ids=ids,
        chunk_size=3,
        defer=False,
        **kwargs,
    )


@pytest.mark.django_db
def test_a_job_is_planned_into_chunks_of_the_ids_given(orders):
    job = start([o.pk for o in orders])

    assert job.status == JobStatus.QUEUED and job.total == 7 and job.planned
    assert [len(c.ids) for c in job.chunks.order_by("number")] == [3, 3, 1]
    assert [pk for c in job.chunks.order_by("number") for pk in c.ids] == [o.pk for o in orders]


@pytest.mark.django_db
def test_a_job_anonymizes_every_record_with_one_audit_record_each_and_one_batch_per_chunk(orders):
    job = job_run(job_id=start([o.pk for o in orders]).pk)

    assert job.status == JobStatus.DONE and job.done == 7 and job.finished_at
    assert not Order.objects.filter(anonymized=False).exists()
    assert AuditRecord.objects.count() == 7
    assert set(AuditRecord.objects.values_list("interface", flat=True)) == {Interface.ADMIN}
    progress = job_progress(job)
    assert (progress.done, progress.total, progress.changed, progress.seconds_left) == (7, 7, 7, 0.0)
    assert len(progress.batch_ids) == 3
    assert set(AuditRecord.objects.values_list("batch_id", flat=True)) == set(progress.batch_ids)


@pytest.mark.django_db
def test_the_job_kinds_of_usages_and_of_retention_are_registered(make_usage):
    usages = [make_usage() for _ in range(4)]
    job = job_start(
        kind="usages.anonymize",
        actor=ACTOR,
        via=Interface.WEB,
        ids=[u.pk for u in usages],
        chunk_size=3,
        defer=False,
    )

    assert job_run(job_id=job.pk).status == JobStatus.DONE
    assert CodeUsage.objects.filter(anonymized=True).count() == 4
    with pytest.raises(LookupError):
        job_start(kind="no.such.kind", actor=ACTOR, via=Interface.ADMIN, ids=[], defer=False)


@pytest.mark.django_db(transaction=True)
def test_a_failed_chunk_changes_nothing_and_a_retry_resumes_at_it(orders):
    job = start([o.pk for o in orders])
    updates = []

    def fail_on_second_chunk(execute, sql, params, many, context):
        if 'UPDATE "orders_order" SET' in sql:
            updates.append(sql)
            if len(updates) == 2:
                raise Interrupted
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_on_second_chunk):
        failed = job_run(job_id=job.pk)

    assert failed.status == JobStatus.FAILED and "Interrupted" in failed.error
    assert failed.done == 3
    assert AuditRecord.objects.count() == 3  # the failed chunk left nothing, not even its audit
    assert list(JobChunk.objects.filter(done_at__isnull=False).values_list("number", flat=True)) == [1]

    job_retry(job_id=job.pk, defer=False)
    done = job_run(job_id=job.pk)

    assert done.status == JobStatus.DONE and done.done == 7
    assert AuditRecord.objects.count() == 7
    assert AuditRecord.objects.values("record_id").distinct().count() == 7


@pytest.mark.django_db
def test_only_a_failed_job_can_be_retried(orders):
    job = start([o.pk for o in orders])
    with pytest.raises(ValueError, match="Only a failed job"):
        job_retry(job_id=job.pk, defer=False)


@pytest.mark.django_db
def test_a_refused_chunk_fails_an_anonymize_job_with_the_services_reason(orders):
    LegalHold.objects.create(order=orders[4], reason="Fraud investigation")

    job = job_run(job_id=start([o.pk for o in orders]).pk)

    assert job.status == JobStatus.FAILED
    assert "BatchRefused: 1 record(s) could not be anonymized" in job.error
    assert job.done == 3  # the first chunk stays done
    assert Order.objects.filter(anonymized=True).count() == 3


@pytest.mark.django_db
def test_a_queued_job_cancelled_never_runs(orders):
    job = start([o.pk for o in orders])

    assert job_cancel(job_id=job.pk).status == JobStatus.CANCELLED
    assert job_run(job_id=job.pk).status == JobStatus.CANCELLED
    assert not Order.objects.filter(anonymized=True).exists()


@pytest.mark.django_db
def test_a_running_job_cancelled_stops_between_chunks(orders, monkeypatch):
    job = start([o.pk for o in orders])
    seen = []

    def cancel_after_first_chunk(done):
        seen.append(done)
        job_cancel(job_id=job.pk)

    cancelled = job_run(job_id=job.pk, on_chunk=cancel_after_first_chunk)

    assert cancelled.status == JobStatus.CANCELLED and cancelled.done == 3 and seen == [3]
    assert Order.objects.filter(anonymized=True).count() == 3
    assert job_progress(cancelled).seconds_left is None


@pytest.mark.django_db
def test_a_chunk_done_is_never_done_again(orders):
    job = start([o.pk for o in orders])
    job_run(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)  # as if a worker died after its last chunk

    again = job_run(job_id=job.pk)

    assert again.status == JobStatus.DONE and again.done == 7
    assert AuditRecord.objects.count() == 7


@pytest.mark.django_db
def test_who_started_a_job_is_kept(orders, officer):
    job = job_start(
        kind="orders.anonymize",
        actor=Actor.for_user(officer),
        via=Interface.WEB,
        ids=[orders[0].pk],
        defer=False,
    )

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.started_by, job.actor, job.interface) == (officer, "officer", Interface.WEB)
    assert AuditRecord.objects.get().actor_user == officer


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_puts_the_job_back_in_the_queue_for_the_task_to_retry(orders):
    job = start([o.pk for o in orders])

    def connection_lost(execute, sql, params, many, context):
        if 'UPDATE "orders_order" SET' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_lost), pytest.raises(OperationalError):
        job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.done == 0
    assert "OperationalError" in job.error and "server closed" not in job.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("attempts", "raised", "status"), [(0, "TransientJobError", "queued"), (4, "OperationalError", "failed")]
)
def test_the_task_retries_a_transient_error_until_its_last_attempt(
    orders, monkeypatch, attempts, raised, status
):
    from core import tasks

    job = start([o.pk for o in orders])

    def lost(**kwargs):
        Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        raise OperationalError("gone")

    monkeypatch.setattr(tasks, "job_run", lost)
    # The task gives its thread's connection back; here that is the test's own.
    monkeypatch.setattr(tasks, "connections", SimpleNamespace(close_all=lambda: None))
    monkeypatch.setattr(tasks, "close_old_connections", lambda: None)
    context = SimpleNamespace(job=SimpleNamespace(attempts=attempts), should_abort=lambda: False)

    with pytest.raises(Exception) as error:
        tasks.run_job.func(context, job_id=str(job.pk))

    assert type(error.value).__name__ == raised
    job.refresh_from_db()
    assert job.status == status


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_unplanned_job_plan_it_once_and_do_each_chunk_once(make_order, monkeypatch):
    import time
    from datetime import UTC, datetime

    from privacy import retention
    from privacy.retention import retention_start
    from tests.plugins.concurrency_faults_logs import Worker

    walk = retention._walk

    def slow_walk(*args):
        time.sleep(0.5)  # both runs are planning at once
        return walk(*args)

    monkeypatch.setattr(retention, "_walk", slow_walk)

    old = [make_order(addresses=False, items=0) for _ in range(10)]
    job = retention_start(
        record_type="orders", cutoff=datetime(2030, 1, 1, tzinfo=UTC), actor=ACTOR, chunk_size=3, defer=False
    )
    runs = [Worker(job_run, job_id=job.pk) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.finish()
        assert run.error is None, run.error
        assert run.result.status == JobStatus.DONE, run.result.error

    job.refresh_from_db()
    assert (job.status, job.total, job.done) == (JobStatus.DONE, 10, 10)
    assert job.chunks.count() == 4
    assert AuditRecord.objects.count() == 10
    assert AuditRecord.objects.values("record_id").distinct().count() == len(old)


# --- VACUUM after a large job: no dead row version keeps a masked value for long -------------------


def vacuum_counts(*tables: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE relname = ANY(%s)", [list(tables)]
        )
        return dict(cursor.fetchall())


ORDER_TABLES = ("orders_order", "orders_orderaddress", "orders_ordercustomattribute")


@pytest.mark.django_db(transaction=True)
def test_a_job_that_changed_many_records_vacuums_the_tables_it_masked(orders, settings, make_usage):
    settings.JOBS_VACUUM_AFTER = 7
    before = vacuum_counts(*ORDER_TABLES, "promotions_codeusage")

    job = job_run(job_id=start([o.pk for o in orders]).pk)

    assert job.status == JobStatus.DONE
    after = vacuum_counts(*ORDER_TABLES, "promotions_codeusage")
    assert all(after[table] == before[table] + 1 for table in ORDER_TABLES), (before, after)
    assert after["promotions_codeusage"] == before["promotions_codeusage"]  # not masked by this job


@pytest.mark.django_db(transaction=True)
def test_a_small_job_leaves_vacuuming_to_autovacuum(orders, settings):
    settings.JOBS_VACUUM_AFTER = 8
    before = vacuum_counts(*ORDER_TABLES)

    assert job_run(job_id=start([o.pk for o in orders]).pk).status == JobStatus.DONE
    assert vacuum_counts(*ORDER_TABLES) == before


@pytest.mark.django_db
def test_a_job_run_inside_a_transaction_skips_the_vacuum_it_cannot_run(orders, settings):
    settings.JOBS_VACUUM_AFTER = 1
    # The test's own transaction: VACUUM cannot run in one; the job still ends well.
    assert job_run(job_id=start([o.pk for o in orders]).pk).status == JobStatus.DONE
