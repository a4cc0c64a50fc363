"""The jobs pages: who sees them, the progress document, cancel and retry through the services."""

import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from core.audit import Actor
from core.jobs import job_fail, job_run, job_start
from core.models import AuditRecord, Interface, Job, JobStatus
from privacy import views
from privacy.retention import retention_start


@pytest.fixture
def retention_job(make_order, officer):
    """A finished retention job over three orders, in chunks of two: two audit batches."""
    for _ in range(3):
        make_order(created_at=datetime(2020, 1, 1, tzinfo=UTC), addresses=False, items=0)
    job = retention_start(
        record_type="orders",
        cutoff=datetime(2021, 1, 1, tzinfo=UTC),
        actor=Actor.for_user(officer),
        chunk_size=2,
        defer=False,
    )
    return job_run(job_id=job.pk)


@pytest.fixture
def queued_job(make_order, officer):
    return job_start(
        kind="orders.anonymize",
        actor=Actor.for_user(officer),
        via=Interface.ADMIN,
        ids=[make_order().pk],
        defer=False,
    )


@pytest.fixture
def failed_job(queued_job):
    return job_fail(job_id=queued_job.pk, error="BatchRefused: 1 order may not be anonymized.")


def urls(job):
    return [
        reverse("privacy:jobs"),
        reverse("privacy:job", args=[job.pk]),
        reverse("privacy:job-progress", args=[job.pk]),
    ]


def test_anonymous_visitors_go_to_the_login_page(client, queued_job):
    for url in urls(queued_job):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/privacy/login/?next={url}"


def test_users_without_view_permissions_get_403(client, django_user_model, queued_job):
    client.force_login(django_user_model.objects.create_user("nobody", password="nobody-password-1"))

    for url in urls(queued_job):
        assert client.get(url).status_code == 403
    for name in ("privacy:job-cancel", "privacy:job-retry"):
        assert client.post(reverse(name, args=[queued_job.pk])).status_code == 403


def test_viewers_see_the_jobs_but_may_not_cancel_or_retry(viewer_client, queued_job, failed_job):
    page = viewer_client.get(reverse("privacy:job", args=[queued_job.pk]))
    assert page.status_code == 200
    assert b"Cancel the job" not in page.content and b"Retry the job" not in page.content

    assert viewer_client.post(reverse("privacy:job-cancel", args=[queued_job.pk])).status_code == 403
    assert viewer_client.post(reverse("privacy:job-retry", args=[queued_job.pk])).status_code == 403
    assert Job.objects.get(pk=queued_job.pk).status == JobStatus.FAILED


def test_the_list_shows_jobs_newest_first_with_kind_actor_and_progress(
    officer_client, retention_job, failed_job
):
    response = officer_client.get(reverse("privacy:jobs"))

    assert response.status_code == 200
    assert [job.pk for job in response.context["jobs"]] == [failed_job.pk, retention_job.pk]
    html = response.content.decode()
    assert "Retention: orders" in html and "Anonymize orders" in html
    assert "3 / 3" in html and "officer" in html and "Command" in html and "Admin" in html
    assert 'aria-current="page">Jobs</a>' in html


def test_the_list_filters_by_status_and_pages(officer_client, retention_job, failed_job):
    response = officer_client.get(reverse("privacy:jobs"), {"status": "failed"})
    assert [job.pk for job in response.context["jobs"]] == [failed_job.pk]

    response = officer_client.get(reverse("privacy:jobs"), {"status": "nonsense"})
    assert list(response.context["jobs"]) == []
    assert views.JobListView.paginate_by == 25


def test_the_progress_document_is_job_progress_as_json(officer_client, retention_job):
    response = officer_client.get(reverse("privacy:job-progress", args=[retention_job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    document = response.json()
    assert set(document) == {
        "status",
        "done",
        "total",
        "rate",
        "seconds_left",
        "changed",
        "unchanged",
        "refused",
        "batch_ids",
        "error",
        "cancel_requested",
    }
    assert (document["status"], document["done"], document["total"], document["changed"]) == ("done", 3, 3, 3)
    batches = set(AuditRecord.objects.values_list("batch_id", flat=True))
    assert {uuid.UUID(batch) for batch in document["batch_ids"]} == batches and len(batches) == 2


def test_an_unknown_job_is_404(officer_client, db):
    assert officer_client.get(reverse("privacy:job", args=[uuid.uuid4()])).status_code == 404
    assert officer_client.get(reverse("privacy:job-progress", args=[uuid.uuid4()])).status_code == 404


def test_the_job_page_links_each_batch_to_its_audit_records(officer_client, retention_job):
    response = officer_client.get(reverse("privacy:job", args=[retention_job.pk]))

    html = response.content.decode()
    assert 'src="/static/privacy/job-progress.js"' in html
    assert "<script>" not in html  # no inline script: the page works under a strict CSP
    for batch_id in set(AuditRecord.objects.values_list("batch_id", flat=True)):
        assert f"/privacy/audit/?batch_id={batch_id}" in html
    assert "Cancel the job" in html  # rendered hidden, shown by the script while the job runs
    assert 'id="job-cancel" hidden' in html


def test_a_finished_job_says_so_instead_of_the_time_left(officer_client, retention_job, queued_job):
    finished = officer_client.get(reverse("privacy:job", args=[retention_job.pk])).content.decode()
    queued = officer_client.get(reverse("privacy:job", args=[queued_job.pk])).content.decode()

    assert '<span id="job-left">finished</span>' in finished
    assert '<span id="job-left">finished</span>' not in queued


def test_the_job_pages_show_no_personal_value(officer_client, retention_job, make_order, officer):
    order = make_order(customer_email="kept.private@example.com", customer_name="Kept Private")
    job = job_start(
        kind="orders.anonymize", actor=Actor.for_user(officer), via=Interface.ADMIN, ids=[order.pk]
    )

    pages = [
        officer_client.get(url).content.decode()
        for url in (reverse("privacy:jobs"), reverse("privacy:job", args=[job.pk]))
    ]

    for html in pages:
        assert "kept.private" not in html and "Kept Private" not in html and str(order.pk) not in html


def test_a_job_with_nothing_to_do_shows_a_full_bar(officer_client, officer):
    job = job_run(
        job_id=job_start(
            kind="usages.anonymize", actor=Actor.for_user(officer), via=Interface.WEB, ids=[], defer=False
        ).pk
    )

    html = officer_client.get(reverse("privacy:job", args=[job.pk])).content.decode()

    assert 'max="1" value="1"' in html


def test_the_audit_trail_filters_by_batch(officer_client, retention_job):
    batch_id = retention_job.chunks.order_by("number").first().batch_id

    response = officer_client.get(reverse("privacy:audit"), {"batch_id": str(batch_id)})

    records = list(response.context["records"])
    assert len(records) == 2 and {record.batch_id for record in records} == {batch_id}


def test_a_failed_job_shows_its_error_and_retry_queues_it_again(
    officer_client, failed_job, monkeypatch, django_capture_on_commit_callbacks
):
    page = officer_client.get(reverse("privacy:job", args=[failed_job.pk])).content.decode()
    assert "BatchRefused: 1 order may not be anonymized." in page
    assert 'id="job-retry" hidden' not in page
    deferred = []
    monkeypatch.setattr("core.jobs._defer", deferred.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("privacy:job-retry", args=[failed_job.pk]), follow=True)

    assert response.redirect_chain == [(reverse("privacy:job", args=[failed_job.pk]), 302)]
    assert Job.objects.get(pk=failed_job.pk).status == JobStatus.QUEUED
    assert deferred == [failed_job.pk]
    assert views.JOB_RETRIED in response.content.decode()


def test_retrying_a_job_that_did_not_fail_says_why(officer_client, queued_job):
    response = officer_client.post(reverse("privacy:job-retry", args=[queued_job.pk]), follow=True)

    assert "Only a failed job can be retried" in response.content.decode()


def test_cancel_stops_a_queued_job_at_once(officer_client, queued_job):
    response = officer_client.post(reverse("privacy:job-cancel", args=[queued_job.pk]), follow=True)

    assert response.redirect_chain == [(reverse("privacy:job", args=[queued_job.pk]), 302)]
    job = Job.objects.get(pk=queued_job.pk)
    assert (job.status, job.cancel_requested) == (JobStatus.CANCELLED, True)
    assert views.JOB_CANCELLED in response.content.decode()


def test_cancel_asks_a_running_job_to_stop_before_its_next_chunk(officer_client, queued_job):
    Job.objects.filter(pk=queued_job.pk).update(status=JobStatus.RUNNING)

    response = officer_client.post(reverse("privacy:job-cancel", args=[queued_job.pk]), follow=True)

    job = Job.objects.get(pk=queued_job.pk)
    assert (job.status, job.cancel_requested) == (JobStatus.RUNNING, True)
    html = response.content.decode()
    assert views.JOB_CANCEL_REQUESTED in html
    # Until the job stops, the page says it is stopping instead of offering Cancel again.
    assert 'id="job-cancel" hidden' in html
    assert 'id="job-cancelling" class="muted">Cancelling…' in html
    progress = officer_client.get(reverse("privacy:job-progress", args=[job.pk])).json()
    assert (progress["status"], progress["cancel_requested"]) == ("running", True)


def test_cancel_and_retry_need_the_csrf_token(officer, failed_job):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)

    for name in ("privacy:job-cancel", "privacy:job-retry"):
        assert client.post(reverse(name, args=[failed_job.pk])).status_code == 403
    assert Job.objects.get(pk=failed_job.pk).status == JobStatus.FAILED


def test_the_dashboard_counts_running_queued_and_failed_jobs(officer_client, queued_job, retention_job):
    Job.objects.filter(pk=queued_job.pk).update(status=JobStatus.FAILED)

    counts = officer_client.get(reverse("privacy:dashboard")).context["job_counts"]

    assert (counts.running, counts.queued, counts.failed) == (0, 0, 1)
