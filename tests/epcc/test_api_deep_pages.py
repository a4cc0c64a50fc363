"""Deep pages (offset >= DEFERRED_JOIN_OFFSET) are read keys first: the same rows, in the same order."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from epcc.pagination import DEFERRED_JOIN_OFFSET
from promotions.models import CodeUsage, PromotionCode

TOTAL = DEFERRED_JOIN_OFFSET + 60


@pytest.fixture
def many_usages(make_promotion):
    promotion = make_promotion(codes=("DEEP",))
    code = PromotionCode.objects.get(promotion=promotion)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    CodeUsage.objects.bulk_create(
        CodeUsage(
            promotion=promotion,
            promotion_code=code,
            code="DEEP",
            # Ties on used_on, so the id tie-break matters.
            used_on=start + timedelta(minutes=n // 3),
            customer_email=f"deep{n}@example.com",
        )
        for n in range(TOTAL)
    )
    return promotion


def ids_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [document["id"] for document in response.json()["data"]]


@pytest.mark.parametrize("sort", ["used_on", "-used_on"])
def test_a_deep_page_holds_the_same_rows_as_a_one_step_read(api_client, many_usages, sort):
    path = f"/v2/rule-promotions/{many_usages.pk}/codes/deep/usages"
    expected_order = ("used_on", "id") if sort == "used_on" else ("-used_on", "-id")
    everything = [str(pk) for pk in CodeUsage.objects.order_by(*expected_order).values_list("pk", flat=True)]
    offset = DEFERRED_JOIN_OFFSET + 7

    page = ids_of(api_client.get(path, {"sort": sort, "page[offset]": offset, "page[limit]": 40}))
    shallow = ids_of(api_client.get(path, {"sort": sort, "page[offset]": 7, "page[limit]": 40}))

    assert page == everything[offset : offset + 40]
    assert shallow == everything[7:47]
    assert len({uuid.UUID(pk) for pk in page}) == 40


def test_a_deep_page_costs_one_query_more_not_one_per_row(
    api_client, many_usages, django_assert_max_num_queries
):
    path = f"/v2/rule-promotions/{many_usages.pk}/codes/deep/usages"
    # 12, and the throttle's shared count (one statement).
    most = 12 + 1
    with django_assert_max_num_queries(most) as deep:
        ids_of(api_client.get(path, {"page[offset]": DEFERRED_JOIN_OFFSET, "page[limit]": 100}))
    with django_assert_max_num_queries(most) as shallow:
        ids_of(api_client.get(path, {"page[offset]": 0, "page[limit]": 100}))
    # One more (keys, then rows) where Python renders; the same where the database
    # writes the documents, as every page is read keys first there.
    assert len(deep.captured_queries) <= len(shallow.captured_queries) + 1


def test_the_last_partial_deep_page(api_client, many_usages):
    path = f"/v2/rule-promotions/{many_usages.pk}/usages"
    page = ids_of(api_client.get(path, {"page[offset]": TOTAL - 5, "page[limit]": 100}))
    assert len(page) == 5
