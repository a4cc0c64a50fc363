"""Code usage endpoints: anonymize (seed 000) and the lists of seed 001 (filter, paging, sort)."""

import uuid
from datetime import UTC, datetime

import pytest

from core.models import AuditRecord
from promotions.models import CodeUsage, Promotion, PromotionCode

ANONYMIZE_PATHS = ["/v2/rule-promotions/usages/anonymize", "/v2/promotions/usages/anonymize"]


def body(*ids):
    return {"data": {"usage_ids": [str(i) for i in ids]}}


@pytest.fixture
def seed_000_usage(seed, make_promotion):
    """Seed 000's usage before anonymization."""
    document = seed("seed_000_usage")["data"][0]
    promotion = make_promotion(codes=())
    code = PromotionCode.objects.create(id=document["code_id"], promotion=promotion, code=document["code"])
    return CodeUsage.objects.create(
        id=document["id"],
        promotion=promotion,
        promotion_code=code,
        code=document["code"],
        order_id=document["order_id"],
        times_used=1,
        used_on=datetime(2024, 8, 15, 23, 27, 18, 68000, tzinfo=UTC),
        customer_id=document["customer_id"],
        customer_email="andy@example.com",
    )


@pytest.fixture
def seed_001_usage(seed, make_promotion):
    """Seed 001's usage, in promotion 26067b82-... (the one its links name)."""
    document = seed("seed_001_usages")["data"][0]
    promotion = Promotion.objects.create(id="26067b82-a50c-462c-b3ed-1ca77aa13bd1", name="BXGY")
    code = PromotionCode.objects.create(id=document["code_id"], promotion=promotion, code="bxgy")
    CodeUsage.objects.create(
        id=document["id"],
        promotion=promotion,
        promotion_code=code,
        code="bxgy",
        order_id=document["order_id"],
        used_on=datetime(2024, 8, 15, 18, 25, 41, 209000, tzinfo=UTC),
        updated_at=datetime(2024, 8, 15, 18, 25, 41, 209000, tzinfo=UTC),
        customer_email="andy@example.com",
        account_id=document["account_id"],
    )
    return promotion


# --- Anonymize ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ANONYMIZE_PATHS)
def test_seed_000_usage_anonymized_answers_the_seed_document(api_client, api_key, seed, seed_000_usage, path):
    response = api_client.post(path, body(seed_000_usage.pk), format="json")

    assert response.status_code == 200
    (document,) = response.json()["data"]
    expected = seed("seed_000_usage")["data"][0]
    assert document["updated_by"] == api_key[0].label
    assert document["updated_by"].startswith("Key-") and api_key[1] not in str(response.json())
    for volatile in ("updated_by", "meta"):
        document.pop(volatile), expected.pop(volatile)
    assert document == expected
    record = AuditRecord.objects.get(record_id=seed_000_usage.pk)
    assert record.actor == api_key[0].label and record.fields == ["customer_email"]


def test_usages_come_back_in_request_order_and_duplicates_once(api_client, make_usage):
    usages = [make_usage() for _ in range(3)]
    ids = [usages[1].pk, usages[1].pk, usages[0].pk, usages[2].pk]
    response = api_client.post(ANONYMIZE_PATHS[0], body(*ids), format="json")
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["data"]] == [str(usages[i].pk) for i in (1, 0, 2)]
    assert CodeUsage.objects.filter(anonymized=True, customer_email="**").count() == 3


def test_already_anonymized_usage_keeps_who_did_it(api_client, make_usage):
    usage = make_usage(anonymized=True, customer_email="**", updated_by="Key-1")
    response = api_client.post(ANONYMIZE_PATHS[0], body(usage.pk), format="json")
    assert response.status_code == 200
    assert response.json()["data"][0]["updated_by"] == "Key-1"
    assert not AuditRecord.objects.exists()


def test_unknown_usages_are_a_404_with_one_entry_each(api_client, make_usage):
    usage = make_usage()
    unknown = [uuid.uuid4(), uuid.uuid4()]
    response = api_client.post(ANONYMIZE_PATHS[1], body(unknown[0], usage.pk, unknown[1]), format="json")
    assert response.status_code == 404
    assert [e["meta"] for e in response.json()["errors"]] == [{"usage_id": str(i)} for i in unknown]
    assert not CodeUsage.objects.get(pk=usage.pk).anonymized


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"data": {}},
        {"data": {"usage_ids": []}},
        {"data": {"usage_ids": ["x"]}},
        {"data": {"order_ids": []}},
    ],
)
def test_unreadable_usage_bodies_are_a_400(api_client, payload):
    response = api_client.post(ANONYMIZE_PATHS[0], payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == 400


def test_usage_query_count_is_the_same_for_1_and_500(
    api_client, make_usage, make_promotion, django_assert_max_num_queries
):
    promotion = make_promotion(codes=())
    one = make_usage(promotion=promotion)
    many = [make_usage(promotion=promotion) for _ in range(500)]
    with django_assert_max_num_queries(20) as single:
        api_client.post(ANONYMIZE_PATHS[0], body(one.pk), format="json")
    with django_assert_max_num_queries(len(single.captured_queries)):
        response = api_client.post(ANONYMIZE_PATHS[0], body(*[u.pk for u in many]), format="json")
    assert response.status_code == 200 and len(response.json()["data"]) == 500


# --- Lists: seed 001 ------------------------------------------------------------------------------


def test_seed_001_list_answers_the_seed_document(api_client, seed, seed_001_usage):
    path = f"/v2/rule-promotions/{seed_001_usage.pk}/codes/BXGY/usages"
    response = api_client.get(path, {"page[limit]": 10})

    assert response.status_code == 200
    expected = seed("seed_001_usages")
    assert response.json()["data"] == expected["data"]
    assert response.json()["meta"] == expected["meta"]
    url = f"http://testserver{path}?page[offset]=0&page[limit]=10"
    assert response.json()["links"] == dict.fromkeys(("current", "first", "last", "prev", "next"), url)


def test_promotion_list_has_every_code(api_client, make_promotion, make_usage):
    promotion = make_promotion(codes=("A", "B"))
    usages = [make_usage(promotion=promotion, code=code) for code in ("A", "B", "A")]
    make_usage(code="A")  # another promotion's
    response = api_client.get(f"/v2/rule-promotions/{promotion.pk}/usages")
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["data"]] == [str(u.pk) for u in usages]


def test_code_in_the_path_matches_in_any_case_and_only_in_its_promotion(
    api_client, make_promotion, make_usage
):
    promotion = make_promotion(codes=("Summer10",))
    mine = make_usage(promotion=promotion, code="Summer10")
    make_usage(code="SUMMER10")  # the same code in another promotion
    for spelled in ("summer10", "SUMMER10", "Summer10"):
        response = api_client.get(f"/v2/rule-promotions/{promotion.pk}/codes/{spelled}/usages")
        assert [d["id"] for d in response.json()["data"]] == [str(mine.pk)]


def test_unknown_promotion_is_a_404(api_client):
    promotion_id = uuid.uuid4()
    for path in (
        f"/v2/rule-promotions/{promotion_id}/usages",
        f"/v2/rule-promotions/{promotion_id}/codes/X/usages",
    ):
        response = api_client.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["detail"] == f"No rule promotion found with id {promotion_id}"


@pytest.mark.parametrize("code", ["NOUSES", "nosuchcode"])
def test_code_without_usages_is_an_empty_page(api_client, make_promotion, code):
    promotion = make_promotion(codes=("NOUSES",))
    response = api_client.get(f"/v2/rule-promotions/{promotion.pk}/codes/{code}/usages")
    assert response.status_code == 200
    payload = response.json()
    assert payload["data"] == []
    assert payload["meta"] == {
        "page": {"limit": 25, "offset": 0, "current": 1, "total": 0},
        "results": {"total": 0},
    }
    first = f"http://testserver/v2/rule-promotions/{promotion.pk}/codes/{code}/usages?page[offset]=0&page[limit]=25"
    assert payload["links"] == dict.fromkeys(("current", "first", "last", "prev", "next"), first)


# --- Paging ---------------------------------------------------------------------------------------


@pytest.fixture
def seven_usages(make_promotion, make_usage):
    promotion = make_promotion(codes=("P",))
    return promotion, [make_usage(promotion=promotion, code="P") for _ in range(7)]


def test_paging_meta_and_links_keep_the_query(api_client, seven_usages):
    promotion, usages = seven_usages
    path = f"/v2/rule-promotions/{promotion.pk}/usages"
    response = api_client.get(path, {"filter": "eq(code,p)", "page[limit]": 3, "page[offset]": 3})

    payload = response.json()
    assert [d["id"] for d in payload["data"]] == [str(u.pk) for u in usages[3:6]]
    assert payload["meta"] == {
        "page": {"limit": 3, "offset": 3, "current": 2, "total": 3},
        "results": {"total": 7},
    }
    base = f"http://testserver{path}?filter=eq(code,p)&page[offset]="
    assert payload["links"] == {
        "current": base + "3&page[limit]=3",
        "first": base + "0&page[limit]=3",
        "last": base + "6&page[limit]=3",
        "prev": base + "0&page[limit]=3",
        "next": base + "6&page[limit]=3",
    }


def test_prev_and_next_are_clamped_to_first_and_last(api_client, seven_usages):
    promotion, _ = seven_usages
    path = f"/v2/rule-promotions/{promotion.pk}/usages"
    first_page = api_client.get(path, {"page[limit]": 5}).json()
    assert first_page["links"]["prev"] == first_page["links"]["first"]
    last_page = api_client.get(path, {"page[limit]": 5, "page[offset]": 5}).json()
    assert last_page["links"]["next"] == last_page["links"]["last"] == last_page["links"]["current"]
    assert last_page["meta"]["page"] == {"limit": 5, "offset": 5, "current": 2, "total": 2}
    beyond = api_client.get(path, {"page[limit]": 5, "page[offset]": 50}).json()
    assert (
        beyond["data"] == [] and beyond["links"]["next"] == beyond["links"]["prev"] == beyond["links"]["last"]
    )


def test_follow_next_links_visits_every_usage_once(api_client, seven_usages):
    promotion, usages = seven_usages
    url = f"/v2/rule-promotions/{promotion.pk}/usages?page[limit]=2"
    seen = []
    while True:
        payload = api_client.get(url).json()
        seen += [d["id"] for d in payload["data"]]
        if payload["links"]["next"] == payload["links"]["current"]:
            break
        url = payload["links"]["next"]
    assert seen == [str(u.pk) for u in usages]


@pytest.mark.parametrize(
    "params",
    [
        {"page[limit]": 0},
        {"page[limit]": 101},
        {"page[limit]": "ten"},
        {"page[limit]": "-1"},
        {"page[limit]": "2.5"},
        {"page[offset]": -1},
        {"page[offset]": 10001},
        {"page[offset]": "x"},
        {"sort": "id"},
        {"sort": "used_on,id"},
        {"sort": "-created_at"},
    ],
)
def test_paging_and_sort_out_of_range_are_a_400(api_client, seven_usages, params):
    promotion, _ = seven_usages
    response = api_client.get(f"/v2/rule-promotions/{promotion.pk}/usages", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == 400


def test_paging_bounds_are_accepted(api_client, seven_usages):
    promotion, _ = seven_usages
    path = f"/v2/rule-promotions/{promotion.pk}/usages"
    assert api_client.get(path, {"page[limit]": 100}).status_code == 200
    assert api_client.get(path, {"page[limit]": 1, "page[offset]": 10000}).status_code == 200


# --- Sort -----------------------------------------------------------------------------------------


def test_sort_by_used_on_breaks_ties_on_id(api_client, make_promotion, make_usage):
    promotion = make_promotion(codes=("T",))
    same = datetime(2024, 5, 5, tzinfo=UTC)
    ids = sorted([uuid.uuid4() for _ in range(4)])
    for usage_id in reversed(ids):
        make_usage(promotion=promotion, code="T", id=usage_id, used_on=same)
    earlier = make_usage(promotion=promotion, code="T", used_on=datetime(2024, 5, 4, tzinfo=UTC))
    path = f"/v2/rule-promotions/{promotion.pk}/usages"

    default = [d["id"] for d in api_client.get(path).json()["data"]]
    ascending = [d["id"] for d in api_client.get(path, {"sort": "used_on"}).json()["data"]]
    descending = [d["id"] for d in api_client.get(path, {"sort": "-used_on"}).json()["data"]]

    expected = [str(earlier.pk)] + [str(i) for i in ids]
    assert default == ascending == expected
    assert descending == list(reversed(expected))


# --- Filters --------------------------------------------------------------------------------------


@pytest.fixture
def day_usages(make_promotion, make_usage):
    """Usages at the edges of 2024-07-11 (UTC) in one promotion, by name."""
    promotion = make_promotion(codes=("Cart1Off", "OTHER"))
    moments = {
        "before": datetime(2024, 7, 10, 23, 59, 59, 999000, tzinfo=UTC),
        "start": datetime(2024, 7, 11, 0, 0, tzinfo=UTC),
        "noon": datetime(2024, 7, 11, 12, 0, tzinfo=UTC),
        "end": datetime(2024, 7, 11, 23, 59, 59, 999000, tzinfo=UTC),
        "after": datetime(2024, 7, 12, 0, 0, tzinfo=UTC),
    }
    made = {
        name: make_usage(promotion=promotion, code="Cart1Off", used_on=at) for name, at in moments.items()
    }
    made["other"] = make_usage(promotion=promotion, code="OTHER", used_on=moments["noon"])
    return promotion, made


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("gt(used_on,2024-07-11)", {"after"}),
        ("ge(used_on,2024-07-11)", {"start", "noon", "end", "after", "other"}),
        ("lt(used_on,2024-07-11)", {"before"}),
        ("le(used_on,2024-07-11)", {"before", "start", "noon", "end", "other"}),
        ("eq(used_on,2024-07-11)", {"start", "noon", "end", "other"}),
        ("gt(used_on,2024-07-11T12:00:00Z)", {"end", "after"}),
        ("ge(used_on,2024-07-11T12:00:00Z)", {"noon", "end", "after", "other"}),
        ("lt(used_on,2024-07-11T12:00:00.000Z)", {"before", "start"}),
        ("le(used_on,2024-07-11T14:00:00+02:00)", {"before", "start", "noon", "other"}),
        ("eq(used_on,2024-07-11T12:00:00Z)", {"noon", "other"}),
        ("ge(used_on,2024-07-11):lt(used_on,2024-07-12):eq(code,cart1off)", {"start", "noon", "end"}),
        ("eq(code,CART1OFF)", {"before", "start", "noon", "end", "after"}),
        ("eq(code,nope)", set()),
        (
            "ge(used_on,2024-07-10):ge(used_on,2024-07-11):lt(used_on,2024-07-12):lt(used_on,2024-07-13)",
            {"start", "noon", "end", "other"},
        ),
        ('eq(code,"Cart1Off")', {"before", "start", "noon", "end", "after"}),
        ('eq(code,"a,b(c)")', set()),
    ],
)
def test_usage_filters_and_date_boundaries(api_client, day_usages, filter_text, expected):
    promotion, made = day_usages
    names = {str(u.pk): name for name, u in made.items()}
    response = api_client.get(f"/v2/rule-promotions/{promotion.pk}/usages", {"filter": filter_text})
    assert response.status_code == 200, response.json()
    assert {names[d["id"]] for d in response.json()["data"]} == expected


def test_filter_by_id(api_client, day_usages):
    promotion, made = day_usages
    response = api_client.get(
        f"/v2/rule-promotions/{promotion.pk}/usages", {"filter": f"eq(id,{made['noon'].pk})"}
    )
    assert [d["id"] for d in response.json()["data"]] == [str(made["noon"].pk)]


@pytest.mark.parametrize(
    ("filter_text", "says"),
    [
        ("eq(foo,1)", 'unknown field "foo" in "eq(foo,1)"'),
        ("like(code,x*)", 'operator "like" not supported on "code"'),
        ("gt(used_on,tomorrow)", '"used_on" expects a date'),
        ("gt(used_on,2024-02-30)", "gt(used_on,2024-02-30)"),
        ("eq(id,42)", '"id" expects a UUID'),
        ("eq(code,a", 'expected ")"'),
        ("eq(code,a):", "at the end of the filter"),
        ("eq(code,a)eq(code,b)", 'expected ":" between terms'),
        ("EQ(code,a)", "expected an operator"),
        ("ne(code,a)", 'unknown operator "ne"'),
        (":".join(f"gt(used_on,2024-01-{d:02d})" for d in range(1, 12)), "too many terms"),
    ],
)
def test_filters_that_do_not_parse_are_a_400_naming_the_part(api_client, day_usages, filter_text, says):
    promotion, _ = day_usages
    response = api_client.get(f"/v2/rule-promotions/{promotion.pk}/usages", {"filter": filter_text})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert says in error["detail"]
    assert error["meta"] == {"source": "filter"}


def test_eleven_terms_are_too_many_ten_are_not(api_client, make_order):
    make_order(status="cancelled", customer_email="ron@example.com", customer_name="Ron")
    ten = [
        "eq(status,cancelled)",
        "eq(payment,paid)",
        "eq(shipping,fulfilled)",
        "eq(anonymized,false)",
        "eq(email,ron@example.com)",
        "like(email,ron*)",
        "eq(name,ron)",
        "like(name,r*)",
        "gt(created_at,2000-01-01)",
        "lt(created_at,2100-01-01)",
    ]
    response = api_client.get("/v2/orders", {"filter": ":".join(ten)})
    assert response.status_code == 200 and len(response.json()["data"]) == 1
    response = api_client.get("/v2/orders", {"filter": ":".join([*ten, "ge(created_at,2000-01-01)"])})
    assert response.status_code == 400
    assert "too many terms" in response.json()["errors"][0]["detail"]


def test_list_queries_filter_on_the_code_id_not_a_join(api_client, day_usages, django_assert_max_num_queries):
    promotion, _ = day_usages
    # 10, and 1 for the throttle's shared count.
    with django_assert_max_num_queries(11) as captured:
        api_client.get(
            f"/v2/rule-promotions/{promotion.pk}/codes/cart1off/usages", {"filter": "eq(code,cart1off)"}
        )
    usage_queries = [q["sql"] for q in captured.captured_queries if 'FROM "promotions_codeusage"' in q["sql"]]
    assert len(usage_queries) == 2  # the count and the page
    assert all("promotion_code_id" in sql and "JOIN" not in sql for sql in usage_queries)
