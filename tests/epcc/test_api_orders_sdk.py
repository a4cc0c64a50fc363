"""EPCC's JavaScript SDK, unchanged, against the orders endpoints of a live server."""

import pytest

from core.api_keys import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdk_authenticates_with_client_credentials_and_lists_orders(epcc_sdk, officer, make_order):
    order = make_order()
    _, token = api_key_create(name="sdk", user=officer)

    [listed, fetched] = epcc_sdk(
        token,
        [
            {"endpoint": "Orders", "chain": [["Limit", [5]]], "call": "All"},
            {"endpoint": "Orders", "call": "Get", "args": [str(order.pk)]},
        ],
    )

    assert listed["ok"], listed
    assert [document["id"] for document in listed["value"]["data"]] == [str(order.pk)]
    assert listed["value"]["meta"]["page"]["limit"] == 5
    assert fetched["ok"] and fetched["value"]["data"]["id"] == str(order.pk)


def test_sdk_sees_a_refused_client_secret_as_epccs_401(epcc_sdk, officer):
    _, token = api_key_create(name="sdk", user=officer)
    key_id = token.partition(".")[0]

    [answer] = epcc_sdk(f"{key_id}.not-the-secret", [{"endpoint": "Orders", "call": "All"}])

    assert not answer["ok"]
    assert answer["error"]["errors"][0]["status"] == 401
