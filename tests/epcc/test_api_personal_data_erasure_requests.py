"""EPCC's Personal Data API: POST/GET /v2/personal-data/erasure-requests and GET /{id}.

The jobs the POST queues are run here in-process (job_run); the SDK tests
(test_api_personal_data_sdk.py) run them with a real worker.
"""

import json
import uuid
from datetime import date, timedelta

import pytest

from core.audit import Actor
from core.jobs import job_run
from core.models import ErasureRequest, Interface, Job, JobStatus
from epcc.personal_data_filters import BAD_FILTER_DETAIL
from erasure.models import ErasureRequestItem
from erasure.selectors import erasure_request_jobs
from erasure.services import erasure_request_cancel, erasure_request_follow_up, erasure_request_reject
from orders.models import Order
from orders.services import legal_hold_place
from tests.epcc.documents import key_initiator

PATH = "/v2/personal-data/erasure-requests"


def create_body(resource_type, resource_id, **extra) -> dict:
    return {
        "data": {
            "type": "erasure_request",
            "resource_type": resource_type,
            "resource_id": str(resource_id),
            **extra,
        }
    }


def subject_filter(resource_type, resource_id) -> dict:
    return {"filter": f"eq(resource_type,{resource_type}):eq(resource_id,{resource_id})"}


def run_jobs(erasure_request_id) -> None:
    erasure_request = ErasureRequest.objects.get(pk=erasure_request_id)
    for job in reversed(erasure_request_jobs(erasure_request)):
        job_run(job_id=job.pk, reraise=True)


PERSONAL = ["Grace", "Hopper", "grace.hopper", "Lovelace", "Byron Street", "Happy birthday"]


def assert_no_personal_value(response) -> None:
    text = response.content.decode()
    assert not [value for value in PERSONAL if value.lower() in text.lower()], text


# --- Create ------------------------------------------------------------------------------


def test_a_post_answers_201_created_at_once_and_queues_the_work(api_client, api_key, person):
    customer_id, shipped, unpaid, usage = person

    response = api_client.post(PATH, create_body("customer", customer_id), format="json")

    assert response.status_code == 201
    document = response.json()["data"]
    erasure_request = ErasureRequest.objects.get()
    assert document == {
        "id": str(erasure_request.pk),
        "type": "erasure_request",
        "resource_id": str(customer_id),
        "resource_type": "customer",
        "initiator": key_initiator(api_key[0]),
        "status": "CREATED",
        "status_description": (
            f"The erasure request successfully created; 3 of 3 record(s) still to handle by a background "
            f"job; due on {erasure_request.due_on.isoformat()}"
        ),
        "created_at": document["created_at"],
        "updated_at": document["updated_at"],
        "meta": {
            "reference": f"Personal Data API ({api_key[0].label})",
            "received_on": date.today().isoformat(),
            "due_on": erasure_request.due_on.isoformat(),
            "closed_at": None,
            "items": {"total": 3, "anonymized": 0, "waiting": 0, "pending": 3, "excluded": 0},
        },
        "links": {"self": f"http://testserver{PATH}/{erasure_request.pk}"},
    }
    assert erasure_request.created_by_api_key == api_key[0]
    # Nothing is anonymized inside the request: a job does it.
    assert not Order.objects.filter(anonymized=True).exists()
    assert Job.objects.filter(status=JobStatus.QUEUED).count() == 1
    assert_no_personal_value(response)


def test_after_its_job_a_request_waits_and_says_for_what_then_the_follow_up_completes_it(api_client, person):
    customer_id, shipped, unpaid, usage = person
    created = api_client.post(PATH, create_body("customer", customer_id), format="json").json()["data"]
    run_jobs(created["id"])

    waiting = api_client.get(f"{PATH}/{created['id']}")

    document = waiting.json()["data"]
    assert document["status"] == "CREATED"
    due = ErasureRequest.objects.get().due_on.isoformat()
    assert document["status_description"] == (
        "The erasure request successfully created; 2 record(s) anonymized, 1 waiting: "
        f"order {unpaid.pk} (status: order:complete, payment:unpaid, shipping:unfulfilled) is not yet "
        "fulfilled, cancelled or refunded. Each is anonymized by the "
        f"follow-up once it becomes eligible; due on {due}"
    )
    assert document["meta"]["items"] == {
        "total": 3,
        "anonymized": 2,
        "waiting": 1,
        "pending": 0,
        "excluded": 0,
    }
    assert_no_personal_value(waiting)

    Order.objects.filter(pk=unpaid.pk).update(payment="paid", shipping="fulfilled")
    erasure_request_follow_up()
    done = api_client.get(f"{PATH}/{created['id']}").json()["data"]

    assert done["status"] == "SUCCESS"
    assert (
        done["status_description"] == "The erasure request is successfully processed: 3 record(s) anonymized"
    )
    assert done["meta"]["closed_at"] is not None


def test_a_held_order_waits_until_its_hold_ends(api_client, make_order, actor):
    order = make_order()
    ends = date.today() + timedelta(days=90)
    legal_hold_place(order_id=order.pk, reason="Chargeback", ends_on=ends, actor=actor, via=Interface.WEB)
    created = api_client.post(PATH, create_body("order", order.pk), format="json").json()["data"]
    run_jobs(created["id"])

    document = api_client.get(f"{PATH}/{created['id']}").json()["data"]

    assert document["status"] == "CREATED"
    assert f"order {order.pk} is under legal hold until {ends.isoformat()}" in document["status_description"]
    assert "Chargeback" not in document["status_description"]


def test_a_request_about_nothing_held_is_created_then_a_success(api_client):
    response = api_client.post(PATH, create_body("account", uuid.uuid4()), format="json")

    assert response.status_code == 201
    assert response.json()["data"]["status"] == "CREATED"
    assert response.json()["data"]["status_description"] == (
        "The erasure request successfully created; nothing is held about this resource, so there is nothing "
        "to erase"
    )
    fetched = api_client.get(response.json()["data"]["links"]["self"]).json()["data"]
    assert fetched["status"] == "SUCCESS"


def test_hyphenated_types_a_reference_and_the_trailing_slash_are_accepted(api_client, make_usage):
    usage = make_usage()

    response = api_client.post(
        PATH + "/", create_body("code-usage", usage.pk, reference="TICKET-42"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["data"]["resource_type"] == "code_usage"
    assert ErasureRequest.objects.get().reference == "TICKET-42"


ONE = str(uuid.UUID(int=1))
BODY_SHAPE = '{"data": {"type": "erasure_request", "resource_type": ..., "resource_id": ...}}'
REQUIRED = "This field is required: a non-empty string."
TYPES = "customer, account, order, code_usage (hyphens accepted, e.g. code-usage)"
NO_TYPE = {"resource_type": "customer", "resource_id": ONE}
NO_RESOURCE_TYPE = {"type": "erasure_request", "resource_id": ONE}
NO_RESOURCE_ID = {"type": "erasure_request", "resource_type": "customer"}
BAD_TYPE = f"data.resource_type: resource_type must be one of {TYPES}"
NO_NUL = "data: The reference may not contain a NUL character."
BAD_BODIES = {
    "not an object": ([], f"data: The body must be {BODY_SHAPE}."),
    "no type": ({"data": NO_TYPE}, 'data.type: Must be "erasure_request".'),
    "no resource_type": ({"data": NO_RESOURCE_TYPE}, f"data.resource_type: {REQUIRED}"),
    "no resource_id": ({"data": NO_RESOURCE_ID}, f"data.resource_id: {REQUIRED}"),
    "an email": (create_body("email", "a@example.com"), BAD_TYPE),
    "not a uuid": (create_body("customer", "12345"), "data.resource_id: resource_id must be a UUID"),
    "reference": (create_body("customer", ONE, reference=5), "data.reference: Must be a string."),
    "NUL in reference": (create_body("account", ONE, reference="T\x00"), NO_NUL),
}  # fmt: skip


@pytest.mark.parametrize(("body", "detail"), list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_a_body_that_cannot_be_read_is_a_400_and_creates_nothing(api_client, body, detail):
    response = api_client.post(PATH, body, format="json")

    assert response.status_code == 400
    assert [error["detail"] for error in response.json()["errors"]] == [detail]
    assert not ErasureRequest.objects.exists() and not Job.objects.exists()
    assert "a@example.com" not in response.content.decode()


def test_a_body_that_is_not_json_is_refused(api_client):
    response = api_client.post(PATH, "resource_type=customer", content_type="text/plain")

    assert response.status_code == 415
    assert not ErasureRequest.objects.exists()


# --- Status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("close", "description"),
    [
        (erasure_request_reject, "The erasure request was rejected by a privacy officer"),
        (erasure_request_cancel, "The erasure request was cancelled by a privacy officer"),
    ],
)
def test_a_rejected_or_cancelled_request_is_a_failure_without_the_officers_note(
    api_client, person, actor, close, description
):
    customer_id, *_ = person
    created = api_client.post(PATH, create_body("customer", customer_id), format="json").json()["data"]
    close(erasure_request_id=created["id"], reason="Identity of Grace Hopper not verified", actor=actor)

    response = api_client.get(f"{PATH}/{created['id']}")

    assert response.json()["data"]["status"] == "FAILURE"
    assert response.json()["data"]["status_description"].startswith(description)
    assert_no_personal_value(response)


def test_a_request_whose_job_failed_is_a_failure(api_client, person):
    customer_id, *_ = person
    created = api_client.post(PATH, create_body("customer", customer_id), format="json").json()["data"]
    Job.objects.update(status=JobStatus.FAILED, error="RuntimeError")

    document = api_client.get(f"{PATH}/{created['id']}").json()["data"]

    assert document["status"] == "FAILURE"
    assert document["status_description"] == (
        "There was an error processing your request, you can retry it or report it using the id"
    )


# --- Lists and reads ------------------------------------------------------------------------------


def test_the_list_holds_the_requests_for_that_resource_newest_first(
    api_client, person, make_order, django_assert_num_queries
):
    customer_id, shipped, *_ = person
    first = api_client.post(PATH, create_body("customer", customer_id), format="json").json()["data"]
    run_jobs(first["id"])
    second = api_client.post(PATH, create_body("customer", customer_id), format="json").json()["data"]
    api_client.post(PATH, create_body("order", shipped.pk), format="json")  # another resource

    # Key and user, permissions (two), the throttle's count; the count, the page, the page's
    # waiting items.
    with django_assert_num_queries(7):
        response = api_client.get(PATH, subject_filter("customer", customer_id))

    body = response.json()
    assert [document["id"] for document in body["data"]] == [second["id"], first["id"]]
    assert [document["status"] for document in body["data"]] == ["CREATED", "CREATED"]
    assert body["meta"]["results"] == {"total": 2}
    assert_no_personal_value(response)


@pytest.mark.parametrize(
    "query", [{}, {"filter": "eq(resource_type,customer)"}, {"filter": "eq(status,SUCCESS)"}]
)
def test_the_list_needs_epccs_filter(api_client, query):
    response = api_client.get(PATH, query)

    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == BAD_FILTER_DETAIL


def test_an_unknown_request_is_a_404(api_client):
    missing = uuid.uuid4()

    response = api_client.get(f"{PATH}/{missing}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == f"No erasure request found with id {missing}"


def test_a_request_made_on_the_pages_names_its_officer(api_client, officer, make_order):
    from erasure.services import erasure_request_create

    order = make_order()
    made = erasure_request_create(
        resource_type="order",
        resource_id=str(order.pk),
        reference="T-1",
        actor=Actor.for_user(officer),
        via=Interface.WEB,
        run=False,
    )

    document = api_client.get(f"{PATH}/{made.pk}").json()["data"]

    assert document["initiator"]["access-token-name"] == "officer"
    assert document["initiator"]["access-token-type"] == "user"


# --- Permissions -----------------------------------------------------------------------------------


def test_a_token_without_the_anonymize_permission_gets_403_on_post(client_for, viewer, person):
    customer_id, *_ = person
    client = client_for(viewer)

    response = client.post(PATH, create_body("customer", customer_id), format="json")

    assert response.status_code == 403
    assert "orders.anonymize_order" in response.json()["errors"][0]["detail"]
    assert not ErasureRequest.objects.exists() and not ErasureRequestItem.objects.exists()
    assert client.get(PATH, subject_filter("customer", customer_id)).status_code == 200


def test_no_token_is_a_401(anonymous_client):
    assert (
        anonymous_client.post(PATH, create_body("customer", uuid.uuid4()), format="json").status_code == 401
    )
    assert anonymous_client.get(PATH, subject_filter("customer", uuid.uuid4())).status_code == 401
    assert anonymous_client.get(f"{PATH}/{uuid.uuid4()}").status_code == 401


# --- No personal value -------------------------------------------------------------------------


def test_the_personal_data_api_logs_answers_and_stores_no_personal_value(
    all_logs, api_client, person, settings
):
    settings.DEBUG = True
    customer_id, shipped, unpaid, usage = person
    subject = subject_filter("customer", customer_id)
    answers = [
        api_client.post(PATH, create_body("customer", customer_id), format="json"),
        api_client.post(PATH, create_body("email", "grace.hopper@example.com"), format="json"),
        api_client.get(
            "/v2/personal-data/logs",
            {"filter": "eq(resource_type,email):eq(resource_id,grace.hopper@example.com)"},
        ),
        api_client.get(
            "/v2/personal-data/related-data-entries", {"filter": "eq(email,grace.hopper@example.com)"}
        ),
    ]
    run_jobs(answers[0].json()["data"]["id"])
    answers += [
        api_client.get(PATH, subject),
        api_client.get("/v2/personal-data/logs", subject),
        api_client.get("/v2/personal-data/related-data-entries", subject),
    ]

    assert [answer.status_code for answer in answers] == [201, 400, 400, 400, 200, 200, 200]
    assert len(answers[5].json()["data"]) == 2  # the shipped order and the usage, anonymized
    for answer in answers:
        assert_no_personal_value(answer)
    assert not [value for value in PERSONAL if value.lower() in all_logs.text.lower()]
    stored = json.dumps(
        [*ErasureRequest.objects.values(), *ErasureRequestItem.objects.values(), *Job.objects.values()],
        default=str,
    )
    assert not [value for value in PERSONAL if value.lower() in stored.lower()]
