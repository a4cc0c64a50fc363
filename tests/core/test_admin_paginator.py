"""The admin lists' paginator: an estimate only for an unfiltered large PostgreSQL table."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.admin_lists import EstimatedCountPaginator
from orders.models import Order


def counted(queryset) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(queryset, 100).count
    return count, [q["sql"] for q in queries]


def test_counts_exactly_below_the_threshold(make_order):
    for _ in range(3):
        make_order(items=0)
    count, sql = counted(Order.objects.all())
    assert count == 3
    assert any("COUNT(" in statement.upper() for statement in sql)


def test_an_unfiltered_large_table_takes_the_planner_estimate(make_order, monkeypatch):
    monkeypatch.setattr("core.admin_lists.ESTIMATE_ABOVE", 2)
    for _ in range(3):
        make_order(items=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")

    count, sql = counted(Order.objects.all())
    assert count == 3
    assert not any("COUNT(" in statement.upper() for statement in sql)

    count, sql = counted(Order.objects.filter(anonymized=False))
    assert count == 3
    assert any("COUNT(" in statement.upper() for statement in sql)
