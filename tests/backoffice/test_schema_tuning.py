"""The storage choices the masking speed rests on are in the PostgreSQL schema the migrations build."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_masked_tables_leave_room_for_their_masked_versions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN (%s, %s)",
            ["orders_orderaddress", "orders_ordercustomattribute"],
        )
        options = dict(cursor.fetchall())
    assert options == {
        "orders_orderaddress": ["fillfactor=70"],
        "orders_ordercustomattribute": ["fillfactor=70"],
    }


def test_order_lookups_are_served_by_one_index_each_that_starts_with_the_order():
    for table, expected in (
        ("orders_orderaddress", "(order_id, kind)"),
        ("orders_ordercustomattribute", "(order_id, name)"),
        ("orders_orderitem", '(order_id, "position", id)'),
    ):
        starting_with_the_order = [d for d in _indexes(table).values() if "(order_id" in d]
        assert len(starting_with_the_order) == 1, (table, starting_with_the_order)
        assert starting_with_the_order[0].endswith(expected), starting_with_the_order


def test_the_audit_links_indexes_skip_empty_links():
    definitions = _indexes("core_auditrecord")
    for link in ("actor_user_id", "actor_key_id", "erasure_request_id"):
        [definition] = [d for d in definitions.values() if f"({link})" in d]
        assert definition.endswith(f"WHERE ({link} IS NOT NULL)"), definition


def test_the_audit_trail_by_batch_is_served_by_an_index():
    """A job's page links each chunk's batch: the trail filtered by batch_id must not scan it whole."""
    import uuid

    from core.models import AuditRecord

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = AuditRecord.objects.filter(batch_id=uuid.uuid4()).explain()
    assert "audit_batch_idx" in plan, plan


def test_usages_are_autovacuumed_after_one_percent_changed_so_the_lists_stay_index_only():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'promotions_codeusage'")
        (options,) = cursor.fetchone()
    assert set(options) >= {
        "autovacuum_vacuum_scale_factor=0.01",
        "autovacuum_vacuum_insert_scale_factor=0.01",
        "autovacuum_analyze_scale_factor=0.01",
    }
