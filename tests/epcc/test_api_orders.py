"""POST /v2/orders/anonymize, GET /v2/orders, GET /v2/orders/{id} (SPEC 2 and 3, seeds 002/003)."""

import copy
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.models import AuditRecord, Interface
from epcc.documents.orders import orders_documents
from orders.models import LegalHold, Order

ANONYMIZE = "/v2/orders/anonymize"
SEED_422_ORDER = uuid.UUID("0b508e02-d3de-4673-83ca-087875d06d8f")


def body(*ids):
    return {"data": {"order_ids": [str(i) for i in ids]}}


def without_updated_at(document):
    document = copy.deepcopy(document)
    del document["meta"]["timestamps"]["updated_at"]
    return document


# --- Anonymize: success ---------------------------------------------------------------------------


def test_seed_003_order_anonymized_answers_the_seed_document(api_client, seed, seed_003_order):
    response = api_client.post(ANONYMIZE, body(seed_003_order["id"]), format="json")

    assert response.status_code == 200
    expected = seed("seed_003_order")["data"][0]
    (document,) = response.json()["data"]
    assert without_updated_at(document) == without_updated_at(expected)
    assert document["meta"]["timestamps"]["updated_at"] != seed_003_order["meta"]["timestamps"]["updated_at"]
    order = Order.objects.get(pk=seed_003_order["id"])
    assert order.anonymized and order.customer_email == "**"


def test_documents_come_back_in_request_order_and_duplicates_once(api_client, make_order):
    orders = [make_order(status="cancelled", shipping="unfulfilled") for _ in range(3)]
    ids = [orders[2].pk, orders[0].pk, orders[2].pk, orders[1].pk]

    response = api_client.post(ANONYMIZE, body(*ids), format="json")

    assert response.status_code == 200
    assert [d["id"] for d in response.json()["data"]] == [str(orders[i].pk) for i in (2, 0, 1)]
    assert all(d["anonymized"] and d["customer"]["email"] == "**" for d in response.json()["data"])


@pytest.mark.parametrize(
    "statuses",
    [
        {"status": "complete", "payment": "paid", "shipping": "fulfilled"},
        {"status": "cancelled", "payment": "unpaid", "shipping": "unfulfilled"},
        {"status": "complete", "payment": "refunded", "shipping": "unfulfilled"},
    ],
)
def test_each_eligible_status_is_anonymized(api_client, make_order, statuses):
    order = make_order(**statuses)
    response = api_client.post(ANONYMIZE, body(order.pk), format="json")
    assert response.status_code == 200
    document = response.json()["data"][0]
    assert document["anonymized"] is True
    assert set(document["shipping_address"].values()) == {"**"}
    assert document["custom_attributes"]["gift_message"]["value"] == "**"
    assert {k: document[k] for k in statuses} == statuses


def test_already_anonymized_order_succeeds_and_changes_nothing(api_client, make_order):
    order = make_order()
    api_client.post(ANONYMIZE, body(order.pk), format="json")
    before = Order.objects.values().get(pk=order.pk)

    response = api_client.post(ANONYMIZE, body(order.pk), format="json")

    assert response.status_code == 200
    assert Order.objects.values().get(pk=order.pk) == before
    assert AuditRecord.objects.filter(record_id=order.pk).count() == 1


def test_audit_record_names_the_api_key_and_the_interface(api_client, api_key, make_order):
    order = make_order()
    api_client.post(ANONYMIZE, body(order.pk), format="json")
    record = AuditRecord.objects.get(record_id=order.pk)
    assert record.actor == api_key[0].label and record.actor_key == api_key[0]
    assert record.interface == Interface.API
    assert "customer.email" in record.fields
    assert "ada" not in str(record.fields).lower()


def test_answer_written_by_the_masking_statement_is_what_a_later_read_gives(api_client, make_order):
    # Every shape the masking statement writes from its RETURNING rows: attributes masked,
    # null, "" or none, no addresses, no items; one order already anonymized (read, not written).
    orders = [
        make_order(attributes={"gift": "Ada's note", "empty": "", "nothing": None, "n": 3}),
        make_order(addresses=False, attributes={}, items=0),
        make_order(customer_name="", contact_email=None),
    ]
    done = make_order()
    api_client.post(ANONYMIZE, body(done.pk), format="json")
    ids = [done.pk, *(order.pk for order in orders)]

    response = api_client.post(ANONYMIZE, body(*ids), format="json")

    assert response.status_code == 200
    assert response.json()["data"] == orders_documents(ids)
    assert response.json()["data"][1]["custom_attributes"]["empty"]["value"] == ""


def test_documents_of_fresh_orders_are_not_read_again(api_client, make_order):
    order = make_order()

    with CaptureQueriesContext(connection) as queries:
        assert api_client.post(ANONYMIZE, body(order.pk), format="json").status_code == 200

    assert not [q for q in queries if "unnest(" in q["sql"] and "orders_orderaddress" in q["sql"]]


def test_query_count_is_the_same_for_1_and_500_orders(api_client, make_order, django_assert_max_num_queries):
    one = make_order(items=1)
    many = [make_order(items=1) for _ in range(499)]
    with django_assert_max_num_queries(20) as single:
        assert api_client.post(ANONYMIZE, body(one.pk), format="json").status_code == 200
    with django_assert_max_num_queries(len(single.captured_queries)) as batch:
        response = api_client.post(ANONYMIZE, body(*[o.pk for o in many]), format="json")
    assert response.status_code == 200 and len(response.json()["data"]) == 499
    assert len(batch.captured_queries) == len(single.captured_queries)


# --- Anonymize: refusals --------------------------------------------------------------------------


def test_refused_order_is_exactly_seed_003s_422(api_client, make_order):
    make_order(id=SEED_422_ORDER, status="complete", payment="paid", shipping="unfulfilled")

    response = api_client.post(ANONYMIZE, body(SEED_422_ORDER), format="json")

    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {
                "status": 422,
                "title": "Could not anonymize orders",
                "detail": "Order has status: order:complete, payment:paid, shipping:unfulfilled; "
                "only fulfilled or refunded or cancelled orders may be anonymized",
                "meta": {"order_id": "0b508e02-d3de-4673-83ca-087875d06d8f"},
            }
        ]
    }
    assert not Order.objects.get(pk=SEED_422_ORDER).anonymized


def test_batch_with_a_refused_order_changes_nothing(api_client, make_order):
    good, bad = make_order(), make_order(shipping="unfulfilled")
    response = api_client.post(ANONYMIZE, body(good.pk, bad.pk), format="json")
    assert response.status_code == 422
    assert [e["meta"]["order_id"] for e in response.json()["errors"]] == [str(bad.pk)]
    assert not Order.objects.filter(anonymized=True).exists()
    assert not AuditRecord.objects.exists()


def test_legal_hold_is_a_422_naming_the_hold_and_its_end(api_client, make_order, officer):
    order = make_order()
    hold = LegalHold.objects.create(order=order, reason="Chargeback window", ends_on="2099-01-31")
    response = api_client.post(ANONYMIZE, body(order.pk), format="json")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert "Chargeback window" in error["detail"] and "2099-01-31" in error["detail"]
    assert error["meta"]["order_id"] == str(order.pk)
    assert error["meta"]["legal_hold_id"] == str(hold.pk)


def test_unknown_ids_are_a_404_with_one_entry_each(api_client, make_order):
    order = make_order()
    unknown = [uuid.uuid4(), uuid.uuid4()]
    response = api_client.post(ANONYMIZE, body(unknown[0], order.pk, unknown[1]), format="json")
    assert response.status_code == 404
    errors = response.json()["errors"]
    assert [e["meta"]["order_id"] for e in errors] == [str(i) for i in unknown]
    assert all(e["status"] == 404 and e["title"] == "Not Found" for e in errors)
    assert not Order.objects.get(pk=order.pk).anonymized


def test_unknown_and_refused_ids_are_a_404_listing_every_problem(api_client, make_order):
    refused = make_order(shipping="unfulfilled")
    unknown = uuid.uuid4()
    response = api_client.post(ANONYMIZE, body(refused.pk, unknown), format="json")
    assert response.status_code == 404
    errors = response.json()["errors"]
    assert [(e["status"], e["meta"]["order_id"]) for e in errors] == [
        (422, str(refused.pk)),
        (404, str(unknown)),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"order_ids": [str(uuid.uuid4())]},
        {"data": []},
        {"data": {}},
        {"data": {"order_ids": None}},
        {"data": {"order_ids": "db21f851-ae44-4111-a175-ee2c6c257031"}},
        {"data": {"order_ids": []}},
        {"data": {"order_ids": ["not-a-uuid"]}},
        {"data": {"order_ids": [12345]}},
        {"data": {"order_ids": [None]}},
        {"data": {"order_ids": [["db21f851-ae44-4111-a175-ee2c6c257031"]]}},
        {"data": {"usage_ids": [str(uuid.uuid4())]}},
        [],
        "text",
    ],
)
def test_unreadable_bodies_are_a_400(api_client, payload):
    response = api_client.post(ANONYMIZE, payload, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["status"] == 400 and error["title"] == "Bad Request" and error["detail"]


def test_body_that_is_not_json_is_a_400(api_client):
    response = api_client.post(ANONYMIZE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == 400


def test_body_that_is_not_declared_json_is_a_415(api_client):
    response = api_client.post(ANONYMIZE, "order_ids=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["errors"][0]["status"] == 415


@override_settings(PRIVACY_BATCH_LIMIT=3)
def test_more_ids_than_the_batch_limit_is_a_400(api_client, make_order):
    orders = [make_order() for _ in range(4)]
    response = api_client.post(ANONYMIZE, body(*[o.pk for o in orders]), format="json")
    assert response.status_code == 400
    assert "At most 3" in response.json()["errors"][0]["detail"]
    assert response.json()["errors"][0]["meta"] == {"source": "data.order_ids"}
    assert not Order.objects.filter(anonymized=True).exists()
    assert api_client.post(ANONYMIZE, body(*[o.pk for o in orders[:3]]), format="json").status_code == 200


def test_default_batch_limit_is_1000(api_client):
    ids = [uuid.uuid4() for _ in range(1001)]
    response = api_client.post(ANONYMIZE, body(*ids), format="json")
    assert response.status_code == 400
    assert "At most 1000" in response.json()["errors"][0]["detail"]


# --- Reads ----------------------------------------------------------------------------------------


def test_get_order_answers_the_epcc_document(api_client, seed_003_order):
    response = api_client.get(f"/v2/orders/{seed_003_order['id']}")
    assert response.status_code == 200
    assert response.json() == {"data": seed_003_order}


def test_get_unknown_order_is_a_404_envelope(api_client):
    order_id = uuid.uuid4()
    response = api_client.get(f"/v2/orders/{order_id}")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"status": 404, "title": "Not Found", "detail": f"No order found with id {order_id}"}]
    }


def test_order_list_is_newest_first_and_paged(api_client, make_order):
    orders = [make_order() for _ in range(3)]
    response = api_client.get("/v2/orders", {"page[limit]": 2})
    assert response.status_code == 200
    payload = response.json()
    assert [d["id"] for d in payload["data"]] == [str(orders[2].pk), str(orders[1].pk)]
    assert payload["meta"] == {
        "page": {"limit": 2, "offset": 0, "current": 1, "total": 2},
        "results": {"total": 3},
    }
    ascending = api_client.get("/v2/orders", {"sort": "created_at"}).json()["data"]
    assert [d["id"] for d in ascending] == [str(o.pk) for o in orders]


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("eq(status,cancelled)", {"cancelled"}),
        ("eq(payment,refunded)", {"refunded"}),
        ("eq(shipping,unfulfilled)", {"cancelled", "refunded"}),
        ("eq(anonymized,true)", {"anonymized"}),
        ("eq(anonymized,false):eq(shipping,fulfilled)", {"plain"}),
        ("eq(email,PLAIN@Example.com)", {"plain"}),
        ("like(email,*@example.com)", {"plain", "cancelled", "refunded"}),
        ("like(email,can*)", {"cancelled"}),
        ("like(email,*ref*)", {"refunded"}),
        ("like(email,c*d@*)", {"cancelled"}),
        ("eq(name,ron swanson)", {"refunded"}),
        ("like(name,*Swan*)", {"refunded"}),
        ("ge(created_at,2024-03-02)", {"refunded", "anonymized"}),
        ("gt(created_at,2024-03-02)", {"anonymized"}),
        ("le(created_at,2024-03-02)", {"plain", "cancelled", "refunded"}),
        ("lt(created_at,2024-03-02)", {"plain", "cancelled"}),
        ("lt(created_at,2024-03-02T12:00:00Z)", {"plain", "cancelled"}),
        ("le(created_at,2024-03-02T12:00:00Z)", {"plain", "cancelled", "refunded"}),
    ],
)
def test_order_list_filters(api_client, make_order, filter_text, expected):
    from datetime import UTC, datetime

    made = {
        "plain": make_order(customer_email="plain@example.com", created_at=datetime(2024, 3, 1, tzinfo=UTC)),
        "cancelled": make_order(
            status="cancelled",
            shipping="unfulfilled",
            customer_email="cancelled@example.com",
            created_at=datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC),
        ),
        "refunded": make_order(
            payment="refunded",
            shipping="unfulfilled",
            customer_email="refunded@example.com",
            customer_name="Ron Swanson",
            created_at=datetime(2024, 3, 2, 12, tzinfo=UTC),
        ),
        "anonymized": make_order(
            anonymized=True,
            customer_email="**",
            customer_name="**",
            created_at=datetime(2024, 3, 3, tzinfo=UTC),
        ),
    }
    names = {str(order.pk): name for name, order in made.items()}

    response = api_client.get("/v2/orders", {"filter": filter_text})

    assert response.status_code == 200, response.json()
    assert {names[d["id"]] for d in response.json()["data"]} == expected


@pytest.mark.parametrize(
    "filter_text",
    [
        "eq(status,shipped)",
        "eq(anonymized,yes)",
        "like(status,c*)",
        "eq(created_at,2024-01-01)",
        "eq(customer_email,a@b.c)",
        "gt(created_at,yesterday)",
    ],
)
def test_order_list_refuses_filters_it_does_not_know(api_client, filter_text):
    response = api_client.get("/v2/orders", {"filter": filter_text})
    assert response.status_code == 400
    assert filter_text in response.json()["errors"][0]["detail"]


def test_order_list_query_count_does_not_grow_with_the_page(
    api_client, make_order, django_assert_max_num_queries
):
    for _ in range(3):
        make_order()
    with django_assert_max_num_queries(20) as few:
        api_client.get("/v2/orders")
    for _ in range(30):
        make_order()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api_client.get("/v2/orders").json()["data"]) == 25


def test_order_list_filters_and_sorts_on_updated_at(api_client, make_order):
    early = make_order(updated_at=datetime(2024, 5, 1, 10, tzinfo=UTC))
    late = make_order(updated_at=datetime(2024, 5, 2, 10, tzinfo=UTC))
    later = make_order(updated_at=datetime(2024, 5, 2, 11, tzinfo=UTC))

    def ids(**params):
        response = api_client.get("/v2/orders", params)
        assert response.status_code == 200, response.content
        return [d["id"] for d in response.json()["data"]]

    assert ids(sort="updated_at") == [str(early.pk), str(late.pk), str(later.pk)]
    assert ids(sort="-updated_at") == [str(later.pk), str(late.pk), str(early.pk)]
    assert ids(filter="ge(updated_at,2024-05-02T10:00:00Z)", sort="updated_at") == [
        str(late.pk),
        str(later.pk),
    ]
    assert ids(filter="gt(updated_at,2024-05-02T10:00:00Z)", sort="updated_at") == [str(later.pk)]
    assert ids(filter="lt(updated_at,2024-05-02)", sort="updated_at") == [str(early.pk)]
    assert ids(filter="le(updated_at,2024-05-02)", sort="updated_at") == [
        str(early.pk),
        str(late.pk),
        str(later.pk),
    ]
    assert api_client.get("/v2/orders", {"filter": "eq(updated_at,2024-05-02)"}).status_code == 400
    assert api_client.get("/v2/orders", {"sort": "updated"}).status_code == 400


def test_documents_say_where_their_push_to_the_store_stands(api_client, make_order, make_usage):
    from core.models import RecordType, UpstreamPush

    failed, plain = make_order(), make_order()
    usage = make_usage()
    batch = uuid.uuid4()
    UpstreamPush.objects.create(
        record_type=RecordType.ORDER, record_id=failed.pk, batch_id=batch, state="failed", error="422 refused"
    )
    UpstreamPush.objects.create(record_type=RecordType.CODE_USAGE, record_id=usage.pk, batch_id=batch)
    documents = {d["id"]: d for d in api_client.get("/v2/orders").json()["data"]}
    assert documents[str(failed.pk)]["meta"]["upstream"] == {"state": "failed", "error": "422 refused"}
    assert "upstream" not in documents[str(plain.pk)]["meta"]
    assert api_client.get(f"/v2/orders/{failed.pk}").json()["data"]["meta"]["upstream"]["state"] == "failed"
    usages = api_client.get(f"/v2/rule-promotions/{usage.promotion_id}/usages").json()["data"]
    assert usages[0]["meta"]["upstream"] == {"state": "pending"}


def test_the_anonymize_answer_shows_the_new_push_as_pending(api_client, make_order, settings):
    settings.EPCC_API_BASE_URL = "http://127.0.0.1:9"
    settings.EPCC_CLIENT_ID, settings.EPCC_CLIENT_SECRET = "1", "a-secret"
    order = make_order()
    response = api_client.post(
        "/v2/orders/anonymize", {"data": {"order_ids": [str(order.pk)]}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["meta"]["upstream"] == {"state": "pending"}
