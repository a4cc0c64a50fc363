"""anonymize_eligible queues the retention run; a real worker runs it to the foreground run's result."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditRecord, Interface, Job, JobStatus, RecordType
from orders.models import LegalHold, Order
from promotions.models import CodeUsage
from tests.plugins.job_workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def test_a_worker_runs_the_queued_retention_run_chunk_by_chunk(make_order, make_usage, start_worker):
    old = [make_order(created_at=days_ago(400 + n), addresses=False, items=0) for n in range(120)]
    young = make_order(created_at=days_ago(10))
    held = make_order(created_at=days_ago(500))
    LegalHold.objects.create(order=held, reason="Tax retention")
    usages = [make_usage(used_on=days_ago(800 + n)) for n in range(60)]
    out = StringIO()

    call_command(
        "anonymize_eligible",
        "--orders-older-than",
        "365",
        "--usages-older-than",
        "365",
        "--batch-size",
        "50",
        stdout=out,
    )
    assert not Order.objects.filter(anonymized=True).exists()  # queued, not run

    start_worker()
    wait_for(lambda: not Job.objects.exclude(status=JobStatus.DONE).exists(), "both jobs done")

    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == {o.pk for o in old}
    assert not Order.objects.filter(pk__in=[young.pk, held.pk], anonymized=True).exists()
    assert CodeUsage.objects.filter(anonymized=True).count() == len(usages)
    orders_job = Job.objects.get(kind="retention.orders")
    assert (orders_job.total, orders_job.done, orders_job.chunks.count()) == (120, 120, 3)
    records = AuditRecord.objects.filter(record_type=RecordType.ORDER)
    assert records.count() == 120 and records.values("record_id").distinct().count() == 120
    assert set(AuditRecord.objects.values_list("interface", flat=True)) == {Interface.COMMAND}
    assert records.values("batch_id").distinct().count() == 3
    assert AuditRecord.objects.filter(record_type=RecordType.CODE_USAGE).count() == 60
