"""The retention run on a schedule: the periodic task `privacy.retention_run` (privacy/tasks.py).

Off unless RETENTION_SCHEDULE holds a cron line; each run queues one
retention job per kind the settings name, and none for a kind whose last
job is still queued or running. The last test has a real worker run the
schedule (every second) end to end.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app

from core.models import AuditRecord, Interface, Job, JobStatus
from orders.models import Order
from privacy import tasks
from privacy.retention import SCHEDULED_ACTOR
from tests.plugins.job_workers import wait_for


def days_ago(days):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def old_and_new(make_order, make_usage):
    old = [make_order(created_at=days_ago(400), addresses=False, items=0) for _ in range(3)]
    make_order(created_at=days_ago(10), addresses=False, items=0)
    make_usage(used_on=days_ago(800))
    return old


@pytest.fixture
def registry():
    """The app's periodic tasks; those a test adds are taken out again after it."""
    periodic_tasks = app.periodic_registry.periodic_tasks
    before = dict(periodic_tasks)
    yield lambda: {key: task for key, task in periodic_tasks.items() if key not in before}
    for key in set(periodic_tasks) - set(before):
        del periodic_tasks[key]


@pytest.fixture
def run_task(monkeypatch, django_capture_on_commit_callbacks):
    """The task's function, here, on the test's connection (in a worker it takes its own and closes it)."""
    monkeypatch.setattr(tasks, "close_old_connections", lambda: None)
    monkeypatch.setattr(tasks, "connections", type("NoClose", (), {"close_all": staticmethod(lambda: None)}))

    def run(timestamp=0):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.retention_run(timestamp=timestamp)

    return run


def queued_runs() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT args->>'job_id' FROM procrastinate_jobs WHERE task_name = 'core.run_job'")
        return {row[0] for row in cursor.fetchall()}


def test_the_schedule_is_off_by_default(settings, registry):
    assert settings.RETENTION_SCHEDULE == ""
    assert tasks.retention_schedule_register("") is False
    assert registry() == {}


def test_a_cron_line_schedules_the_retention_run_with_its_locks(registry):
    assert tasks.retention_schedule_register("0 3 * * *") is True

    [periodic] = registry().values()
    assert (periodic.task.name, periodic.cron, periodic.periodic_id) == (
        "privacy.retention_run",
        "0 3 * * *",
        "retention",
    )
    # Never two at once: at most one waiting, one running.
    assert periodic.task.queueing_lock == "privacy.retention_run"
    assert periodic.task.lock == "privacy.retention_run"


def test_a_bad_cron_line_stops_the_start_with_a_clear_message(registry):
    with pytest.raises(ImproperlyConfigured, match=r"RETENTION_SCHEDULE='every day' is not a cron line"):
        tasks.retention_schedule_register("every day")
    assert registry() == {}


def test_a_run_queues_one_retention_job_per_kind_set(settings, old_and_new, run_task):
    settings.RETENTION_ORDERS_DAYS, settings.RETENTION_USAGES_DAYS = 365, 730

    run_task()

    jobs = list(Job.objects.order_by("kind"))
    assert [(j.kind, j.status, j.interface, j.actor) for j in jobs] == [
        ("retention.orders", JobStatus.QUEUED, Interface.COMMAND, SCHEDULED_ACTOR),
        ("retention.usages", JobStatus.QUEUED, Interface.COMMAND, SCHEDULED_ACTOR),
    ]
    cutoff = timezone.datetime.fromisoformat(jobs[0].params["cutoff"])
    assert abs(cutoff - days_ago(365)) < timedelta(minutes=1)
    assert queued_runs() == {str(j.pk) for j in jobs}
    assert not Order.objects.filter(anonymized=True).exists()  # a worker does the work


def test_usages_are_left_out_unless_their_days_are_set(settings, old_and_new, run_task):
    settings.RETENTION_USAGES_DAYS = None

    run_task()

    assert list(Job.objects.values_list("kind", flat=True)) == ["retention.orders"]


def test_a_kind_whose_last_run_is_still_going_gets_no_second_job(settings, old_and_new, run_task):
    settings.RETENTION_USAGES_DAYS = 730
    run_task()
    Job.objects.filter(kind="retention.orders").update(status=JobStatus.RUNNING)
    Job.objects.filter(kind="retention.usages").update(status=JobStatus.DONE)

    run_task(timestamp=60)

    assert sorted(Job.objects.values_list("kind", flat=True)) == [
        "retention.orders",
        "retention.usages",
        "retention.usages",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_schedule_and_anonymizes_each_old_order_once(
    old_and_new, start_worker, monkeypatch
):
    monkeypatch.setenv("RETENTION_SCHEDULE", "* * * * * */1")  # every second (procrastinate's 6th field)

    start_worker()

    wait_for(lambda: Order.objects.filter(anonymized=True).count() == 3, "the scheduled run to anonymize")
    assert set(Order.objects.filter(anonymized=True).values_list("pk", flat=True)) == {
        o.pk for o in old_and_new
    }
    assert sorted(AuditRecord.objects.values_list("record_id", flat=True)) == sorted(
        o.pk for o in old_and_new
    )
    assert set(AuditRecord.objects.values_list("actor", flat=True)) == {SCHEDULED_ACTOR}
