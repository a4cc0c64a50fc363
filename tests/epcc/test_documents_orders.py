"""PostgreSQL writes each order's EPCC document itself (epcc.documents.orders, the one builder), and it is
EPCC's document: as the rows spell it (tests.epcc.documents), and as the seeds are, literally."""

import io
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import JSONField, Value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from core.formats import CURRENCIES, format_money
from epcc.documents.formats import sql_format_money, sql_money, sql_timestamp
from epcc.documents.orders import order_document, orders_documents, orders_epcc_json
from orders.models import (
    BILLING_ADDRESS_FIELDS,
    MONEY_FIELDS,
    AddressKind,
    Order,
    OrderAddress,
    OrderCustomAttribute,
    OrderItem,
)
from tests.epcc.documents import epcc_money, epcc_timestamp, expected_order_document

pytestmark = pytest.mark.django_db

TESTS = Path(__file__).resolve().parents[1]
SEEDS = [
    TESTS / "fixtures" / "seed_003_order.json",
    TESTS.parent / "demo" / "fixtures" / "epcc" / "seed_orders.json",
]
AMOUNTS = (0, 1, 99, 100, 123456789, -5, -123456, 10**15)
assert len(AMOUNTS) == len(MONEY_FIELDS)  # one order shows every amount


def assert_expected_documents(order_ids):
    """SQL's texts, parsed, are the expected documents, keys in the same order, in request order."""
    texts = orders_epcc_json(order_ids)
    documents = [json.loads(text) for text in texts]
    existing = set(Order.objects.filter(pk__in=order_ids).values_list("pk", flat=True))
    expected = [expected_order_document(pk) for pk in dict.fromkeys(order_ids) if pk in existing]
    assert documents == expected
    assert [json.dumps(d) for d in documents] == [json.dumps(d) for d in expected]
    return documents


def test_orders_with_and_without_their_parts(make_order):
    orders = [
        make_order(),
        make_order(addresses=False, attributes={}, items=0, customer_id=None),
        make_order(attributes={"a": 1, "b": {"nested": True}, "c": None}, items=5, contact_email=None),
    ]
    documents = assert_expected_documents([o.pk for o in orders])
    assert orders_documents([o.pk for o in orders]) == documents
    assert [order_document(o.pk) for o in orders] == documents
    assert order_document(uuid.uuid4()) is None


def test_a_batch_of_documents_costs_one_query_whatever_its_size(make_order, django_assert_num_queries):
    orders = [make_order() for _ in range(30)]
    with django_assert_num_queries(1):
        texts = orders_epcc_json([o.pk for o in orders])
    assert len(texts) == 30
    with django_assert_num_queries(1):
        orders_epcc_json([orders[0].pk])


def test_an_order_with_everything(make_order):
    order = make_order(
        items=4,
        account_id=uuid.uuid4(),
        attributes={"gift_message": "Happy birthday!", "b": "2", "a": "1"},
    )
    [document] = assert_expected_documents([order.pk])
    assert set(document) >= {
        "customer",
        "contact",
        "shipping_address",
        "billing_address",
        "custom_attributes",
    }
    assert list(document["custom_attributes"]) == ["gift_message", "b", "a"]  # id order, not name order
    assert set(document["relationships"]) == {"items", "customer", "account"}
    assert len(document["relationships"]["items"]["data"]) == 4


def test_an_order_without_addresses_attributes_or_items(make_order):
    order = make_order(addresses=False, attributes={}, items=0)
    [document] = assert_expected_documents([order.pk])
    assert not {"shipping_address", "billing_address", "custom_attributes"} & set(document)
    assert document["relationships"]["items"] == {"data": []}
    assert document["links"] == {}


def test_only_one_address(make_order):
    shipping_only = make_order()
    OrderAddress.objects.filter(order=shipping_only, kind=AddressKind.BILLING).delete()
    billing_only = make_order()
    OrderAddress.objects.filter(order=billing_only, kind=AddressKind.SHIPPING).delete()
    shipping, billing = assert_expected_documents([shipping_only.pk, billing_only.pk])
    assert "shipping_address" in shipping and "billing_address" not in shipping
    assert "billing_address" in billing and "shipping_address" not in billing
    assert "phone_number" not in billing["billing_address"]


def test_items_in_position_order(make_order):
    order = make_order(items=0)
    for position in (3, 0, 2, 1):
        OrderItem.objects.create(order=order, position=position)
    [document] = assert_expected_documents([order.pk])
    expected = [
        str(pk)
        for pk in OrderItem.objects.filter(order=order).order_by("position").values_list("id", flat=True)
    ]
    assert [item["id"] for item in document["relationships"]["items"]["data"]] == expected


def test_none_fields_are_left_out_and_empty_strings_kept(make_order):
    no_customer = make_order(customer_name=None, customer_email=None, contact_name=None, contact_email=None)
    partial = make_order(customer_name=None, customer_email="", contact_email=None)
    OrderAddress.objects.filter(order=partial, kind=AddressKind.SHIPPING).update(
        line_2=None, phone_number=None, instructions=""
    )
    OrderAddress.objects.filter(order=partial, kind=AddressKind.BILLING).update(
        **dict.fromkeys(BILLING_ADDRESS_FIELDS)
    )
    first, second = assert_expected_documents([no_customer.pk, partial.pk])
    assert "customer" not in first and "contact" not in first
    assert second["customer"] == {"email": ""}
    assert set(second["contact"]) == {"name"}
    assert second["shipping_address"]["instructions"] == ""
    assert "line_2" not in second["shipping_address"] and "phone_number" not in second["shipping_address"]
    assert second["billing_address"] == {}


def test_attribute_values_of_every_json_kind(make_order):
    values = {
        "null": None,
        "empty": "",
        "integer": 42,
        "decimal": 12.5,
        "big": 10**20,
        "true": True,
        "object": {"a": [1, {"b": None}], "z": "é"},
        "list": [1, "x", None, [], {}],
        "quoted": 'say "hi" \\ \n\t ünïcödé 🎁 \u0001',
        'name with "quotes" and \\': "ok",
    }
    order = make_order(attributes=values)
    [document] = assert_expected_documents([order.pk])
    assert {name: a["value"] for name, a in document["custom_attributes"].items()} == values


def test_an_attribute_holding_json_null_rather_than_sql_null(make_order):
    order = make_order(attributes={})
    OrderCustomAttribute.objects.create(order=order, name="json_null", value=Value(None, JSONField()))
    [document] = assert_expected_documents([order.pk])
    assert document["custom_attributes"]["json_null"]["value"] is None


def test_customer_and_account_ids_absent_or_present(make_order):
    neither = make_order(customer_id=None, account_id=None)
    both = make_order(account_id=uuid.uuid4())
    first, second = assert_expected_documents([neither.pk, both.pk])
    assert set(first["relationships"]) == {"items"}
    assert second["relationships"]["account"] == {"data": {"type": "account", "id": str(both.account_id)}}


@pytest.mark.parametrize("currency", [*CURRENCIES, "CHF", 'X"\\', "é\n€"])
def test_money_in_every_currency(make_order, currency):
    order = make_order(currency=currency, **dict(zip(MONEY_FIELDS, AMOUNTS, strict=True)))
    [document] = assert_expected_documents([order.pk])
    prices = document["meta"]["display_price"]
    assert [prices[name]["amount"] for name in MONEY_FIELDS] == list(AMOUNTS)
    assert [prices[name]["formatted"] for name in MONEY_FIELDS] == [
        format_money(a, currency) for a in AMOUNTS
    ]


def test_money_examples(make_order):
    gbp = make_order(currency="GBP", with_tax=-123456, tax=10**15)
    jpy = make_order(currency="JPY", with_tax=-123456, tax=0)
    chf = make_order(currency="CHF", with_tax=-123456, tax=5)
    prices = [d["meta"]["display_price"] for d in assert_expected_documents([gbp.pk, jpy.pk, chf.pk])]
    assert [p["with_tax"]["formatted"] for p in prices] == ["-£1,234.56", "-¥123,456", "-1,234.56 CHF"]
    assert [p["tax"]["formatted"] for p in prices] == ["£10,000,000,000,000.00", "¥0", "0.05 CHF"]


@pytest.mark.parametrize("microsecond", [0, 999, 1000, 123456, 999999])
def test_timestamps(make_order, microsecond):
    created = datetime(2024, 2, 29, 23, 59, 59, microsecond, tzinfo=UTC)
    updated = datetime(2024, 3, 1, 1, 30, 0, microsecond, tzinfo=timezone(timedelta(hours=2)))
    order = make_order(created_at=created, updated_at=updated)
    [document] = assert_expected_documents([order.pk])
    assert document["meta"]["timestamps"] == {
        "created_at": epcc_timestamp(created),
        "updated_at": epcc_timestamp(updated),
    }


def test_timestamp_examples(make_order):
    at = datetime(2024, 8, 15, 23, 27, 18, tzinfo=UTC)
    orders = [make_order(created_at=at.replace(microsecond=us)) for us in (0, 999, 1000, 68000, 123456)]
    documents = assert_expected_documents([o.pk for o in orders])
    assert [d["meta"]["timestamps"]["created_at"] for d in documents] == [
        "2024-08-15T23:27:18Z",
        "2024-08-15T23:27:18.000Z",
        "2024-08-15T23:27:18.001Z",
        "2024-08-15T23:27:18.068Z",
        "2024-08-15T23:27:18.123Z",
    ]


def test_request_order_kept_unknown_ids_skipped_repeats_once(make_order):
    orders = [make_order() for _ in range(4)]
    unknown = uuid.uuid4()
    requested = [orders[2].pk, unknown, orders[0].pk, orders[3].pk, orders[2].pk, orders[1].pk]
    documents = assert_expected_documents(requested)
    assert [d["id"] for d in documents] == [str(o.pk) for o in (orders[2], orders[0], orders[3], orders[1])]


def test_no_ids_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert orders_epcc_json([]) == []
    assert orders_epcc_json([uuid.uuid4()]) == []


def test_500_orders_in_one_query(django_assert_num_queries):
    orders = Order.objects.bulk_create(
        Order(status="complete", payment="paid", shipping="fulfilled", customer_email=f"c{n}@example.com")
        for n in range(500)
    )
    OrderAddress.objects.bulk_create(
        OrderAddress(order=order, kind=kind, city="London") for order in orders for kind in AddressKind.values
    )
    OrderCustomAttribute.objects.bulk_create(OrderCustomAttribute(order=o, name="n", value=1) for o in orders)
    OrderItem.objects.bulk_create(OrderItem(order=o, position=p) for o in orders for p in range(2))
    ids = [o.pk for o in orders]
    with django_assert_num_queries(1):
        texts = orders_epcc_json(ids)
    assert len(texts) == 500
    assert [json.loads(t) for t in texts] == [expected_order_document(pk) for pk in ids]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_orders_round_trip(path):
    call_command("import_ep", str(path), stdout=io.StringIO())
    seeds = json.loads(path.read_text())["data"]
    ids = [uuid.UUID(document["id"]) for document in seeds]
    assert [json.loads(text) for text in orders_epcc_json(ids)] == seeds
    assert_expected_documents(ids)


# --- The formats ---------------------------------------------------------------------------------


def sql_formatted(amounts: list[int], currencies: list[str]) -> list[tuple[str, str]]:
    """(sql_format_money, sql_money) of each amount and currency, in one query."""
    with connection.cursor() as cursor:
        amount, currency = sql.SQL("v.amount"), sql.SQL("v.currency")
        cursor.execute(
            sql.SQL(
                "SELECT {}, {} FROM unnest(%s::bigint[], %s::text[])"
                " WITH ORDINALITY AS v(amount, currency, n) ORDER BY v.n"
            )
            .format(sql_format_money(amount, currency), sql_money(amount, currency))
            .as_string(),
            [amounts, currencies],
        )
        return cursor.fetchall()


amounts = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1) | st.integers(-(10**7), 10**7)
# Unknown codes include ones JSON must escape: the column takes any 3 characters.
currencies = (
    st.sampled_from(sorted(CURRENCIES))
    | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)
    | st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), min_size=3, max_size=3)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(amounts, currencies), min_size=1, max_size=50))
def test_sql_money_is_format_money(db, examples):
    """The admin shows money with format_money, the documents with sql_money: the same text."""
    amounts_, currencies_ = (list(column) for column in zip(*examples, strict=True))
    rows = sql_formatted(amounts_, currencies_)
    assert [formatted for formatted, _ in rows] == [format_money(a, c) for a, c in examples]
    assert [json.loads(document) for _, document in rows] == [epcc_money(a, c) for a, c in examples]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.timezones()
        ),
        min_size=1,
        max_size=50,
    )
)
def test_sql_timestamp_is_epccs_timestamp(db, values):
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT {} FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS v(at, n) ORDER BY v.n")
            .format(sql_timestamp(sql.SQL("v.at")))
            .as_string(),
            [values],
        )
        assert [row[0] for row in cursor.fetchall()] == [epcc_timestamp(v) for v in values]
