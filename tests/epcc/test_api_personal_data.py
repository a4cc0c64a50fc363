"""EPCC's Personal Data API: GET /v2/personal-data/logs and /related-data-entries.

The filter rule, paging, the documents, permissions, and that no log entry
ever carries a value a record held before it was anonymized.
"""

import json
import uuid

import pytest

from core.api_keys import api_key_create
from core.audit import Actor
from core.models import AuditRecord, Interface
from epcc.personal_data_filters import BAD_FILTER_DETAIL
from orders.models import ADDRESS_PERSONAL_FIELDS, ORDER_PERSONAL_FIELDS
from orders.services import legal_hold_place, orders_anonymize
from promotions.services import usages_anonymize
from tests.epcc.documents import epcc_timestamp, key_initiator

LOGS = "/v2/personal-data/logs"
ENTRIES = "/v2/personal-data/related-data-entries"
PATHS = [LOGS, ENTRIES]


def subject_filter(resource_type, resource_id) -> dict:
    return {"filter": f"eq(resource_type,{resource_type}):eq(resource_id,{resource_id})"}


def personal_values(*records) -> list[str]:
    """Every personal value these records hold now (read before they are anonymized)."""
    values = []
    for record in records:
        values += [getattr(record, name) for name in ORDER_PERSONAL_FIELDS if hasattr(record, name)]
        if hasattr(record, "customer_email") and not hasattr(record, "addresses"):
            values.append(record.customer_email)
        if hasattr(record, "addresses"):
            for address in record.addresses.all():
                values += [getattr(address, name) for name in ADDRESS_PERSONAL_FIELDS]
            values += [str(attribute.value) for attribute in record.custom_attributes.all()]
    return [value for value in values if value and len(value) > 3]


# --- The filter rule -------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"filter": ""},
        {"filter": "eq(resource_type,customer)"},
        {"filter": f"eq(resource_id,{uuid.UUID(int=1)})"},
        {"filter": f"eq(resource_type,customer):eq(resource_id,{uuid.UUID(int=1)}):eq(id,1)"},
        {"filter": f"eq(resource_type,customer):eq(resource_type,order):eq(resource_id,{uuid.UUID(int=1)})"},
        {"filter": f"like(resource_type,customer):eq(resource_id,{uuid.UUID(int=1)})"},
        {"filter": f"eq(resource_type,customer)|eq(resource_id,{uuid.UUID(int=1)})"},
        {"filter": "eq(email,ada@example.com)"},
    ],
    ids=["none", "empty", "type only", "id only", "extra term", "type twice", "like", "not parsing", "email"],
)
def test_a_filter_without_exactly_both_terms_is_epccs_400(api_client, path, query):
    response = api_client.get(path, query)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"status": 400, "title": "Bad Request", "detail": BAD_FILTER_DETAIL}]
    }


@pytest.mark.parametrize("path", PATHS)
def test_the_filter_given_twice_is_a_400(api_client, path):
    one = subject_filter("customer", uuid.uuid4())["filter"]

    response = api_client.get(path + f"?filter={one}&filter={one}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == BAD_FILTER_DETAIL


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_resource_type_or_a_bad_id_is_a_400_that_says_so(api_client, path):
    bad_type = api_client.get(path, subject_filter("address", uuid.uuid4()))
    bad_id = api_client.get(path, subject_filter("customer", "not-a-uuid"))

    assert bad_type.status_code == bad_id.status_code == 400
    assert bad_type.json()["errors"][0]["detail"].startswith(
        "bad filter: resource_type must be one of customer, account, order, code_usage"
    )
    assert bad_id.json()["errors"][0]["detail"] == "bad filter: resource_id must be a UUID"


@pytest.mark.parametrize("spelling", ["code-usage", "code_usage", "CODE-USAGE"])
def test_hyphenated_and_any_case_resource_types_are_accepted(api_client, make_usage, actor, spelling):
    usage = make_usage()
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)

    response = api_client.get(LOGS, subject_filter(spelling, usage.pk))

    assert response.status_code == 200
    assert [(e["resource_type"], e["resource_id"]) for e in response.json()["data"]] == [
        ("code_usage", str(usage.pk))
    ]


# --- Related data entries --------------------------------------------------------------------


def test_a_customers_related_entries_are_its_orders_and_usages(api_client, person, make_order, make_usage):
    customer_id, shipped, unpaid, usage = person
    make_order(), make_usage()  # someone else's

    response = api_client.get(ENTRIES, subject_filter("customer", customer_id))

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [
        *(
            {
                "id": str(pk),
                "type": "related_data_entry",
                "resource_type": "code_usage",
                "resource_id": str(pk),
            }
            for pk in [usage.pk]
        ),
        *(
            {"id": str(pk), "type": "related_data_entry", "resource_type": "order", "resource_id": str(pk)}
            for pk in sorted([shipped.pk, unpaid.pk], key=str)
        ),
    ]
    assert body["meta"] == {
        "page": {"limit": 25, "offset": 0, "current": 1, "total": 1},
        "results": {"total": 3},
    }


def test_an_orders_related_entries_are_its_customers_other_records(api_client, person, make_order):
    customer_id, shipped, unpaid, usage = person
    alone = make_order(customer_id=None)

    of_order = api_client.get(ENTRIES, subject_filter("order", shipped.pk)).json()["data"]
    of_alone = api_client.get(ENTRIES, subject_filter("order", alone.pk)).json()["data"]
    of_usage = api_client.get(ENTRIES, subject_filter("code_usage", usage.pk)).json()["data"]

    assert [(e["resource_type"], e["resource_id"]) for e in of_order] == [
        ("code_usage", str(usage.pk)),
        ("order", str(unpaid.pk)),
    ]
    assert of_alone == []
    assert of_usage == []  # a code usage stands for itself only


def test_an_accounts_related_entries_follow_account_id(api_client, make_order, make_usage):
    account_id = uuid.uuid4()
    order = make_order(account_id=account_id)
    usage = make_usage(account_id=account_id)

    data = api_client.get(ENTRIES, subject_filter("account", account_id)).json()["data"]

    assert {(e["resource_type"], e["resource_id"]) for e in data} == {
        ("order", str(order.pk)),
        ("code_usage", str(usage.pk)),
    }


def test_related_entries_page_in_epccs_shape(api_client, make_order):
    customer_id = uuid.uuid4()
    ids = sorted(str(make_order(customer_id=customer_id, addresses=False, items=0).pk) for _ in range(5))

    response = api_client.get(
        ENTRIES, {**subject_filter("customer", customer_id), "page[limit]": 2, "page[offset]": 2}
    )

    body = response.json()
    assert [e["id"] for e in body["data"]] == ids[2:4]
    assert body["meta"] == {
        "page": {"limit": 2, "offset": 2, "current": 2, "total": 3},
        "results": {"total": 5},
    }
    assert body["links"]["next"].endswith("page[offset]=4&page[limit]=2")
    assert "filter=eq(resource_type,customer):eq(resource_id," in body["links"]["first"]


def test_an_unknown_resource_has_no_entries_and_full_paging(api_client):
    response = api_client.get(ENTRIES, subject_filter("customer", uuid.uuid4()))

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["results"] == {"total": 0}


@pytest.mark.parametrize("query", [{"page[limit]": 0}, {"page[limit]": 101}, {"page[offset]": -1}])
def test_paging_out_of_range_is_a_400(api_client, query):
    response = api_client.get(ENTRIES, {**subject_filter("customer", uuid.uuid4()), **query})

    assert response.status_code == 400


def test_related_entries_take_a_fixed_number_of_queries(api_client, make_order, django_assert_num_queries):
    customer_id = uuid.uuid4()
    for _ in range(30):
        make_order(customer_id=customer_id, addresses=False, attributes={}, items=0)

    # The key and its user, the user's two permission lists, the throttle's count; then the
    # count and the page.
    with django_assert_num_queries(6):
        response = api_client.get(ENTRIES, {**subject_filter("customer", customer_id), "page[limit]": 100})

    assert len(response.json()["data"]) == 30


# --- Logs ---------------------------------------------------------------------------------


def test_an_orders_log_holds_its_anonymization_with_the_mask_only(api_client, api_key, person, actor):
    customer_id, shipped, unpaid, usage = person
    before = personal_values(shipped)
    orders_anonymize(order_ids=[shipped.pk], actor=Actor.for_api_key(api_key[0]), via=Interface.API)
    record = AuditRecord.objects.get(record_id=shipped.pk)

    response = api_client.get(LOGS, subject_filter("order", shipped.pk))

    assert response.status_code == 200
    [entry] = response.json()["data"]
    assert entry == {
        "id": str(record.pk),
        "store_id": None,
        "type": "personal_data_log_entry",
        "initiator": key_initiator(api_key[0]),
        "time": epcc_timestamp(record.at),
        "event_type": "order.event.anonymized",
        "delta": {
            "customer": {"name": "**", "email": "**"},
            "contact": {"name": "**", "email": "**"},
            "shipping_address": dict.fromkeys(entry["delta"]["shipping_address"], "**"),
            "billing_address": dict.fromkeys(entry["delta"]["billing_address"], "**"),
            "custom_attributes": {"gift_message": {"value": "**"}},
        },
        "resource_id": str(shipped.pk),
        "resource_type": "order",
        "relationships": {"resource_path": {"url": f"http://testserver/v2/orders/{shipped.pk}"}},
        "meta": {"interface": "api", "batch_id": str(record.batch_id)},
        "links": {"self": f"http://testserver/v2/personal-data/logs/{record.pk}"},
    }
    assert set(entry["delta"]["shipping_address"]) == {
        "first_name", "last_name", "phone_number", "company_name", "line_1", "line_2",
        "city", "postcode", "county", "region", "country", "instructions",
    }  # fmt: skip
    text = response.content.decode()
    assert before and not [value for value in before if value in text]


def test_a_customers_log_is_the_trail_of_everything_it_holds_oldest_first(
    api_client, person, actor, officer, django_assert_num_queries
):
    customer_id, shipped, unpaid, usage = person
    before = personal_values(shipped, unpaid, usage)
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.WEB)
    legal_hold_place(
        order_id=unpaid.pk, reason="Chargeback window", ends_on=None, actor=actor, via=Interface.ADMIN
    )
    orders_anonymize(order_ids=[shipped.pk], actor=Actor.system("retention"), via=Interface.COMMAND)

    with django_assert_num_queries(6):  # key and user, permissions (two), throttle, count, page
        response = api_client.get(LOGS, subject_filter("customer", customer_id))

    data = response.json()["data"]
    assert [(e["event_type"], e["resource_id"]) for e in data] == [
        ("code_usage.event.anonymized", str(usage.pk)),
        ("order.event.legal_hold_placed", str(unpaid.pk)),
        ("order.event.anonymized", str(shipped.pk)),
    ]
    assert data[0]["delta"] == {"customer_email": "**"}
    assert data[0]["initiator"]["access-token-type"] == "user"
    assert data[0]["initiator"]["access-token-name"] == officer.username
    assert data[0]["relationships"]["resource_path"]["url"] == (
        f"http://testserver/v2/rule-promotions/{usage.promotion_id}/usages?filter=eq(id,{usage.pk})"
    )
    assert data[1]["delta"] == {"legal_hold": True}
    assert data[2]["initiator"] == {
        "access-token-email": None,
        "access-token-id": None,
        "access-token-name": "retention",
        "access-token-store-id": None,
        "access-token-type": "system",
    }
    text = response.content.decode()
    assert not [value for value in before if value in text]
    assert "Chargeback" not in text


def test_the_log_pages_and_a_resource_without_records_has_an_empty_log(api_client, make_usage, actor):
    usages = [make_usage() for _ in range(3)]
    for usage in usages:
        usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)
    usages_anonymize(usage_ids=[usages[0].pk], actor=actor, via=Interface.API)  # changes nothing

    one = api_client.get(LOGS, {**subject_filter("code-usage", usages[0].pk), "page[limit]": 1})
    nothing = api_client.get(LOGS, subject_filter("order", uuid.uuid4()))

    assert one.json()["meta"] == {
        "page": {"limit": 1, "offset": 0, "current": 1, "total": 1},
        "results": {"total": 1},
    }
    assert nothing.json()["data"] == [] and nothing.json()["meta"]["results"]["total"] == 0


def test_a_log_entry_is_served_by_its_link(api_client, make_usage, actor):
    usage = make_usage()
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)
    [entry] = api_client.get(LOGS, subject_filter("code_usage", usage.pk)).json()["data"]

    response = api_client.get(entry["links"]["self"])
    missing = api_client.get(f"{LOGS}/999999999")

    assert response.status_code == 200 and response.json() == {"data": entry}
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["detail"] == "No personal data log entry found with id 999999999"


# --- Authentication and permissions -----------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_no_token_is_a_401(anonymous_client, path):
    response = anonymous_client.get(path, subject_filter("customer", uuid.uuid4()))

    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == 401


@pytest.mark.parametrize("path", PATHS)
def test_a_user_who_may_not_view_orders_and_usages_gets_a_403(client_for, django_user_model, path):
    nobody = django_user_model.objects.create_user(username="nobody", password="x-password-1")

    response = client_for(nobody).get(path, subject_filter("customer", uuid.uuid4()))

    assert response.status_code == 403
    assert "orders.view_order" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("path", PATHS)
def test_a_viewer_may_read(client_for, viewer, path):
    assert client_for(viewer).get(path, subject_filter("customer", uuid.uuid4())).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_the_lists_are_read_only(api_client, path):
    response = api_client.post(
        path + "?" + "filter=" + subject_filter("customer", uuid.uuid4())["filter"], {}
    )

    assert response.status_code == 405


def test_an_access_token_from_the_token_endpoint_reads_too(anonymous_client, officer):
    _, token = api_key_create(name="cc", user=officer)
    key_id, _, secret = token.partition(".")
    issued = anonymous_client.post(
        "/oauth/access_token",
        {"grant_type": "client_credentials", "client_id": key_id, "client_secret": secret},
    ).json()
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")

    assert anonymous_client.get(LOGS, subject_filter("customer", uuid.uuid4())).status_code == 200


def test_the_schema_describes_the_personal_data_lists(anonymous_client):
    schema = json.loads(anonymous_client.get("/api/schema/?format=json").content)

    for path in PATHS:
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["filter"]["required"] is True
        assert {"page[limit]", "page[offset]"} <= set(parameters)
