"""anonymize_eligible: the retention job, batch by batch, through the services."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditRecord, Interface, Job, JobStatus, RecordType
from orders.models import LegalHold, Order, OrderAddress
from orders.services import orders_anonymize
from privacy import retention
from promotions.models import CodeUsage


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def run(*args):
    """The command in the foreground (--wait): its jobs run here, as before there were workers."""
    out, err = StringIO(), StringIO()
    call_command("anonymize_eligible", *args, "--wait", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def old_orders(make_order):
    """Five old fulfilled orders, oldest first in creation, in no particular pk order."""
    return [make_order(created_at=days_ago(400 + n)) for n in range(5)]


@pytest.mark.django_db
def test_anonymizes_old_eligible_orders_and_only_those(make_order, old_orders):
    young = make_order(created_at=days_ago(10))
    not_eligible = make_order(
        created_at=days_ago(500), status="complete", payment="paid", shipping="unfulfilled"
    )
    held = make_order(created_at=days_ago(500))
    LegalHold.objects.create(order=held, reason="Tax retention")
    expired_hold = make_order(created_at=days_ago(500))
    LegalHold.objects.create(
        order=expired_hold, reason="Chargeback", ends_on=timezone.localdate() - timedelta(days=1)
    )

    out, err = run("--orders-older-than", "365", "--batch-size", "2")

    anonymized = set(Order.objects.filter(anonymized=True).values_list("pk", flat=True))
    assert anonymized == {o.pk for o in old_orders} | {expired_hold.pk}
    assert Order.objects.get(pk=old_orders[0].pk).customer_email == "**"
    assert not OrderAddress.objects.filter(order__in=anonymized).exclude(first_name="**").exists()
    for kept in (young, not_eligible, held):
        kept.refresh_from_db()
        assert kept.customer_email.endswith("@example.com")
    assert "orders: 6 anonymized, 1 skipped (legal hold), 0 refused (changed meanwhile)" in out
    assert "6/6" in err  # the progress bar, on stderr

    records = AuditRecord.objects.filter(record_type=RecordType.ORDER)
    assert records.count() == 6
    assert set(records.values_list("interface", flat=True)) == {Interface.COMMAND}
    assert all(actor.startswith("anonymize_eligible") for actor in records.values_list("actor", flat=True))
    # Batches of two: three batches, each its own audit batch.
    assert records.values("batch_id").distinct().count() == 3


@pytest.mark.django_db
def test_dry_run_only_counts(make_usage, old_orders):
    make_usage(used_on=days_ago(800))
    make_usage(used_on=days_ago(5))

    out, _ = run("--orders-older-than", "365", "--usages-older-than", "365", "--dry-run")

    assert "orders: 5 would be anonymized (older than 365 days), 0 held" in out
    assert "usages: 1 would be anonymized (older than 365 days)" in out
    assert not Order.objects.filter(anonymized=True).exists()
    assert not CodeUsage.objects.filter(anonymized=True).exists()
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_usages_older_than_their_cutoff_are_anonymized(make_usage, officer):
    old = [make_usage(used_on=days_ago(800 + n)) for n in range(3)]
    recent = make_usage(used_on=days_ago(30))

    out, _ = run("--orders-older-than", "365", "--usages-older-than", "365", "--batch-size", "2")

    assert set(CodeUsage.objects.filter(anonymized=True).values_list("pk", flat=True)) == {u.pk for u in old}
    usage = CodeUsage.objects.get(pk=old[0].pk)
    assert usage.customer_email == "**"
    assert usage.updated_by.startswith("anonymize_eligible")
    recent.refresh_from_db()
    assert not recent.anonymized
    assert "usages: 3 anonymized, 0 refused" in out
    assert (
        AuditRecord.objects.filter(record_type=RecordType.CODE_USAGE, interface=Interface.COMMAND).count()
        == 3
    )


@pytest.mark.django_db
def test_walks_by_primary_key_without_offset(old_orders):
    with CaptureQueriesContext(connection) as queries:
        run("--orders-older-than", "365", "--batch-size", "2")

    selects = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and re.search(r"LIMIT 2\b", q["sql"])
    ]
    assert len(selects) == 4  # three batches and the empty one that ends the walk
    assert not any("OFFSET" in sql for sql in selects)
    assert sum('"orders_order"."id" >' in sql for sql in selects) == 3


@pytest.mark.django_db
def test_a_hold_placed_after_selection_is_refused_and_the_rest_of_its_batch_anonymized(
    monkeypatch, old_orders
):
    target = min(o.pk for o in old_orders)  # in the first batch

    def hold_placed_meanwhile(*, order_ids, **kwargs):
        if not LegalHold.objects.exists():
            LegalHold.objects.create(order_id=target, reason="Fraud investigation")
        return orders_anonymize(order_ids=order_ids, **kwargs)

    monkeypatch.setattr(retention, "orders_anonymize", hold_placed_meanwhile)

    out, _ = run("--orders-older-than", "365", "--batch-size", "2")

    assert "orders: 4 anonymized, 0 skipped (legal hold), 1 refused (changed meanwhile)" in out
    assert set(Order.objects.filter(anonymized=False).values_list("pk", flat=True)) == {target}


class Interrupted(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_run_keeps_its_finished_batches_and_a_rerun_finishes(make_order):
    orders = [make_order(created_at=days_ago(400 + n)) for n in range(5)]
    updates = []

    def fail_on_second_batch(execute, sql, params, many, context):
        if 'UPDATE "orders_order" SET' in sql:  # the masking statement (one per batch)
            updates.append(sql)
            if len(updates) == 2:
                raise Interrupted
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_on_second_batch), pytest.raises(Interrupted):
        run("--orders-older-than", "365", "--batch-size", "2")

    first_batch = sorted(o.pk for o in orders)[:2]
    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == set(first_batch)
    assert AuditRecord.objects.count() == 2  # the failed batch left nothing, not even its audit

    out, _ = run("--orders-older-than", "365", "--batch-size", "2")

    assert "orders: 3 anonymized" in out
    assert not Order.objects.filter(anonymized=False).exists()
    assert AuditRecord.objects.count() == 5


@pytest.mark.django_db
def test_refuses_a_batch_size_below_one():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--batch-size"):
        run("--orders-older-than", "365", "--batch-size", "0")


@pytest.mark.django_db(transaction=True)  # a job is queued when its transaction commits
def test_without_wait_the_run_is_queued_as_one_job_per_kind_of_record(old_orders, make_usage):
    make_usage(used_on=days_ago(800))
    out = StringIO()

    call_command("anonymize_eligible", "--orders-older-than", "365", "--usages-older-than", "365", stdout=out)

    jobs = list(Job.objects.order_by("kind"))
    assert [(j.kind, j.status, j.interface) for j in jobs] == [
        ("retention.orders", JobStatus.QUEUED, Interface.COMMAND),
        ("retention.usages", JobStatus.QUEUED, Interface.COMMAND),
    ]
    for job in jobs:
        assert f"job {job.pk} queued" in out.getvalue()
        assert f"job_status {job.pk}" in out.getvalue()
    assert "orders: job" in out.getvalue() and "(5 eligible now)" in out.getvalue()
    assert not Order.objects.filter(anonymized=True).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT args->>'job_id' FROM procrastinate_jobs WHERE status = 'todo'")
        queued = {row[0] for row in cursor.fetchall()}
        cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_events CASCADE")
    assert queued == {str(job.pk) for job in jobs}

    status = StringIO()
    call_command("job_status", str(jobs[0].pk), stdout=status)
    assert f"retention.orders {jobs[0].pk}: queued, 0/?" in status.getvalue()
