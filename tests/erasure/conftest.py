"""Fixtures of the erasure request tests: a person with one shipped and one unpaid order."""

import uuid
from dataclasses import dataclass

import pytest


@dataclass
class Subject:
    email: str
    customer_id: uuid.UUID
    shipped: object
    unpaid: object
    usage: object


@pytest.fixture
def subject(make_order, make_usage):
    """Grace: one shipped order, one complete but unpaid order, one code usage."""
    email = "Grace.Hopper@Example.com"
    customer_id = uuid.uuid4()
    who = {"customer_email": email, "customer_name": "Grace Hopper", "customer_id": customer_id}
    shipped = make_order(**who)
    unpaid = make_order(payment="unpaid", shipping="unfulfilled", **who)
    usage = make_usage(customer_email=email.lower(), customer_id=customer_id, order_id=shipped.pk)
    return Subject(email, customer_id, shipped, unpaid, usage)


@pytest.fixture
def run_jobs():
    """run_jobs(erasure_request) -> runs, in this process, every queued job of the request."""
    from core.jobs import job_run
    from erasure.selectors import erasure_request_jobs

    def run(erasure_request):
        for job in reversed(erasure_request_jobs(erasure_request)):
            job_run(job_id=job.pk, reraise=True)
        erasure_request.refresh_from_db()
        return erasure_request

    return run
