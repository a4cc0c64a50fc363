"""EPCC's JavaScript SDK, unchanged, against the Personal Data API of a live server.

Its `ErasureRequests`, `PersonalData` and `DataEntries` endpoints, with a real
procrastinate worker doing the work an erasure request queues: create a
request, wait until it has done what it can, read the logs and the related
entries; ship the unpaid order, let the follow-up run on the worker, wait
until SUCCESS.
"""

import json
import uuid

import pytest

from core.api_keys import api_key_create
from epcc.personal_data_filters import BAD_FILTER_DETAIL
from erasure.tasks import follow_up
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


PERSONAL = ["grace", "hopper", "lovelace", "byron street", "happy birthday"]


def reads(customer_id) -> list[dict]:
    """The SDK's three reads of one customer: logs, related entries, erasure requests."""
    subject = ["customer", str(customer_id)]
    return [
        {"endpoint": "PersonalData", "chain": [["Filter", subject]], "call": "All"},
        {"endpoint": "DataEntries", "chain": [["Filter", subject]], "call": "All"},
        {"endpoint": "ErasureRequests", "chain": [["Filter", subject]], "call": "All"},
    ]


def test_an_erasure_request_through_the_sdk_with_a_worker(epcc_sdk, start_worker, officer, person):
    customer_id, shipped, unpaid, usage = person
    key, token = api_key_create(name="sdk", user=officer)
    start_worker()

    created, settled, logs, entries, requests = epcc_sdk(
        token,
        [
            {"endpoint": "ErasureRequests", "call": "Create", "args": ["customer", str(customer_id)]},
            {
                "endpoint": "ErasureRequests",
                "call": "Get",
                "args": ["$0.data.id"],
                "until": {"path": "data.meta.items.pending", "equals": 0, "seconds": 60},
            },
            *reads(customer_id),
        ],
    )

    assert created["ok"], created
    assert created["value"]["data"]["status"] == "CREATED"
    assert created["value"]["data"]["initiator"]["access-token-id"] == str(key.key_id)
    request_id = created["value"]["data"]["id"]
    # The worker anonymized what it could; the unpaid order waits, and the request says so.
    waiting = settled["value"]["data"]
    assert waiting["status"] == "CREATED"
    assert waiting["meta"]["items"] == {
        "total": 3,
        "anonymized": 2,
        "waiting": 1,
        "pending": 0,
        "excluded": 0,
    }
    assert (
        f"order {unpaid.pk} (status: order:complete, payment:unpaid, shipping:unfulfilled) is not yet"
        in (waiting["status_description"])
    )
    assert sorted((e["event_type"], e["resource_id"]) for e in logs["value"]["data"]) == sorted(
        [("order.event.anonymized", str(shipped.pk)), ("code_usage.event.anonymized", str(usage.pk))]
    )
    for entry in logs["value"]["data"]:
        assert entry["meta"]["erasure_request_id"] == request_id
        assert entry["initiator"]["access-token-id"] == str(key.key_id)
        assert set(json.dumps(entry["delta"]).replace('"**"', "").replace("{", "").replace("}", "")) <= set(
            'abcdefghijklmnopqrstuvwxyz_0123456789": ,'
        )  # field names and the mask only
    assert sorted((e["resource_type"], e["resource_id"]) for e in entries["value"]["data"]) == sorted(
        [("order", str(shipped.pk)), ("order", str(unpaid.pk)), ("code_usage", str(usage.pk))]
    )
    assert [r["id"] for r in requests["value"]["data"]] == [request_id]

    # The unpaid order ships (as an import would say); the follow-up, on the worker, finishes it.
    Order.objects.filter(pk=unpaid.pk).update(payment="paid", shipping="fulfilled")
    follow_up.defer()
    [done, logs_after] = epcc_sdk(
        token,
        [
            {
                "endpoint": "ErasureRequests",
                "call": "Get",
                "args": [request_id],
                "until": {"path": "data.status", "equals": "SUCCESS", "seconds": 60},
            },
            reads(customer_id)[0],
        ],
    )

    assert done["value"]["data"]["status"] == "SUCCESS", done
    assert done["value"]["data"]["status_description"] == (
        "The erasure request is successfully processed: 3 record(s) anonymized"
    )
    assert len(logs_after["value"]["data"]) == 3
    answers = json.dumps([created, settled, logs, entries, requests, done, logs_after]).lower()
    assert not [value for value in PERSONAL if value in answers]


def test_the_sdk_pages_and_sees_epccs_errors(epcc_sdk, officer, viewer, make_order):
    customer_id = uuid.uuid4()
    ids = sorted(str(make_order(customer_id=customer_id, addresses=False, items=0).pk) for _ in range(3))
    _, token = api_key_create(name="sdk", user=officer)
    _, viewer_token = api_key_create(name="read-only", user=viewer)

    page, unfiltered = epcc_sdk(
        token,
        [
            {
                "endpoint": "DataEntries",
                "chain": [["Filter", ["customer", customer_id.hex]], ["Limit", [1]], ["Offset", [1]]],
                "call": "All",
            },
            {"endpoint": "PersonalData", "call": "All"},
        ],
    )
    [refused] = epcc_sdk(
        viewer_token,
        [{"endpoint": "ErasureRequests", "call": "Create", "args": ["customer", str(customer_id)]}],
    )

    assert [e["resource_id"] for e in page["value"]["data"]] == [ids[1]]
    assert page["value"]["meta"] == {
        "page": {"limit": 1, "offset": 1, "current": 2, "total": 3},
        "results": {"total": 3},
    }
    assert unfiltered == {
        "ok": False,
        "error": {"errors": [{"status": 400, "title": "Bad Request", "detail": BAD_FILTER_DETAIL}]},
    }
    assert not refused["ok"]
    assert refused["error"]["errors"][0]["status"] == 403
