"""On PostgreSQL the usage lists are served by CodeUsage's indexes, in index order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


def plans_of_usage_queries(client, path, params=None):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params or {}).status_code == 200
    sqls = [q["sql"] for q in captured.captured_queries if 'FROM "promotions_codeusage"' in q["sql"]]
    plans = []
    with connection.cursor() as cursor:
        # Tiny test tables would be scanned whole; ask which index the planner can use.
        cursor.execute("ANALYZE promotions_codeusage")
        cursor.execute("SET LOCAL enable_seqscan = off")
        # With a handful of rows a bitmap scan plus a sort is cheapest; the question is
        # whether an index can serve the page in order at all, so make those a last resort.
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        for sql in sqls:
            cursor.execute("EXPLAIN " + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize(
    ("suffix", "params"),
    [
        ("codes/summer10/usages", {}),
        ("codes/SUMMER10/usages", {"sort": "-used_on"}),
        ("usages", {}),
        ("usages", {"sort": "-used_on", "filter": "ge(used_on,2024-01-01)"}),
    ],
)
def test_usage_lists_use_the_indexes_without_sorting(api_client, make_promotion, make_usage, suffix, params):
    promotion = make_promotion(codes=("SUMMER10", "OTHER"))
    for code in ("SUMMER10", "OTHER") * 3:
        make_usage(promotion=promotion, code=code)

    count_plan, page_plan = plans_of_usage_queries(
        api_client, f"/v2/rule-promotions/{promotion.pk}/{suffix}", params
    )

    # Which of CodeUsage's indexes the planner picks depends on statistics; any of
    # them must serve the page in order (no sort step) and the count without a scan.
    assert "Index Scan" in page_plan and " usage_" in page_plan, page_plan
    assert "Sort" not in page_plan, page_plan
    assert "Seq Scan" not in count_plan, count_plan
