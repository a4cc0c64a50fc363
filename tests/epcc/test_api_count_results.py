"""meta.results.total: exact up to a bound, past it an estimate, never an unbounded COUNT(*)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from epcc import pagination
from epcc.pagination import EpccPagination
from promotions.models import CodeUsage

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve_usages(make_promotion, make_usage):
    promotion = make_promotion(codes=("SUMMER10",))
    for _ in range(12):
        make_usage(promotion=promotion)
    return CodeUsage.objects.filter(promotion=promotion).order_by("-used_on", "-id")


def test_counts_exactly_up_to_the_limit(monkeypatch, twelve_usages):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 12)

    assert EpccPagination().count_results(twelve_usages) == 12
    assert EpccPagination().count_results(twelve_usages.none()) == 0


def test_the_limit_covers_every_page_a_client_may_ask_for_and_a_filtered_list_of_25000():
    assert pagination.EXACT_COUNT_LIMIT >= pagination.MAX_OFFSET + pagination.MAX_LIMIT
    assert pagination.EXACT_COUNT_LIMIT >= 25_000


def test_past_the_limit_postgresql_estimates_instead_of_counting_every_match(monkeypatch, twelve_usages):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)

    with CaptureQueriesContext(connection) as queries:
        total = EpccPagination().count_results(twelve_usages)

    assert total >= 6  # an estimate, never below what was counted
    sqls = [q["sql"] for q in queries]
    assert len(sqls) == 2
    assert "LIMIT 6" in sqls[0]
    assert sqls[1].startswith("EXPLAIN")


def test_a_filtered_list_of_a_large_table_answers_its_exact_total(api_client, make_promotion, monkeypatch):
    # Issue 17's case (about 25,000 matches among 1,000,000 usages, counted exactly up to
    # 50,000) sized down tenfold with the same ratios: 2,500 matches among 100,000, up to 5,000.
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5_000)
    promotion = make_promotion(codes=("POPULAR", "OTHER"))
    codes = dict(promotion.codes.values_list("code", "id"))
    with connection.cursor() as cursor:
        # One usage a minute from 2024-01-01: the popular code three in four.
        cursor.execute(
            """
            INSERT INTO promotions_codeusage (id, promotion_id, promotion_code_id, code, times_used,
                used_on, customer_email, anonymized, updated_at)
            SELECT gen_random_uuid(), %(promotion)s,
                   CASE WHEN n %% 4 = 0 THEN %(other)s ELSE %(popular)s END::uuid,
                   CASE WHEN n %% 4 = 0 THEN 'OTHER' ELSE 'POPULAR' END, 1,
                   '2024-01-01'::timestamptz + n * interval '1 minute', 'p' || n || '@example.com',
                   false, now()
            FROM generate_series(0, 99999) AS n
            """,
            {"promotion": promotion.pk, "popular": codes["POPULAR"], "other": codes["OTHER"]},
        )
        cursor.execute("ANALYZE promotions_codeusage")
    # 2024-01-10 to 2024-01-12 02:40: 3,040 minutes, three in four of them the popular code's.
    response = api_client.get(
        f"/v2/rule-promotions/{promotion.pk}/codes/popular/usages",
        {"filter": "ge(used_on,2024-01-10T00:00:00Z):lt(used_on,2024-01-12T02:40:00Z)"},
    )

    assert response.status_code == 200
    exact = CodeUsage.objects.filter(
        promotion_code_id=codes["POPULAR"], used_on__gte="2024-01-10T00:00Z", used_on__lt="2024-01-12T02:40Z"
    ).count()
    assert exact == 2_280
    assert response.json()["meta"]["results"]["total"] == exact
