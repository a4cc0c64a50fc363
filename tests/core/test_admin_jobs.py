"""The jobs in the admin: a read-only list, filtered by status and kind."""

import pytest

from core.audit import Actor
from core.jobs import job_start
from core.models import Interface, Job, JobStatus

JOBS_URL = "/admin/core/job/"


@pytest.fixture
def two_jobs(make_order, officer):
    actor = Actor.for_user(officer)
    orders = job_start(
        kind="orders.anonymize", actor=actor, via=Interface.ADMIN, ids=[make_order().pk], defer=False
    )
    usages = job_start(kind="usages.anonymize", actor=actor, via=Interface.WEB, ids=[], defer=False)
    Job.objects.filter(pk=usages.pk).update(status=JobStatus.FAILED)
    return orders, usages


def test_the_list_shows_kind_status_and_progress_and_filters(admin_client, two_jobs):
    orders, usages = two_jobs

    html = admin_client.get(JOBS_URL).content.decode()
    assert "Anonymize orders" in html and "Anonymize code usages" in html and "0 / 1" in html

    failed = admin_client.get(JOBS_URL, {"status__exact": "failed"}).context["cl"].result_list
    assert [job.pk for job in failed] == [usages.pk]
    by_kind = admin_client.get(JOBS_URL, {"kind": "orders.anonymize"}).context["cl"].result_list
    assert [job.pk for job in by_kind] == [orders.pk]
    by_id = admin_client.get(JOBS_URL, {"q": str(orders.pk)}).context["cl"].result_list
    assert [job.pk for job in by_id] == [orders.pk]


def test_jobs_are_read_only_in_the_admin(admin_client, two_jobs):
    job = two_jobs[0]
    assert admin_client.get(f"{JOBS_URL}{job.pk}/change/").status_code == 200
    assert admin_client.get(f"{JOBS_URL}add/").status_code == 403
    assert admin_client.post(f"{JOBS_URL}{job.pk}/change/", {"status": "done"}).status_code == 403
    assert admin_client.post(f"{JOBS_URL}{job.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
