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


def test_the_limit_covers_every_page_a_client_may_ask_for():
    assert pagination.EXACT_COUNT_LIMIT >= pagination.MAX_OFFSET + pagination.MAX_LIMIT


def test_past_the_limit_postgresql_estimates_instead_of_counting_every_match(monkeypatch, twelve_usages):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)

    with CaptureQueriesContext(connection) as queries:
        total = EpccPagination().count_results(twelve_usages)

    assert total >= 6  # an estimate, never below what was counted
    sqls = [q["sql"] for q in queries]
    assert len(sqls) == 2
    assert "LIMIT 6" in sqls[0]
    assert sqls[1].startswith("EXPLAIN")
