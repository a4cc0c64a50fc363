"""core.audit's one INSERT: the same records from a dict of ids or from groups of ids."""

import uuid
from datetime import UTC, datetime

import pytest

from core.audit import ChangedGroups, audit_records_create
from core.models import AuditAction, AuditRecord, Interface, RecordType

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


def written(batch_id) -> list[tuple]:
    return list(
        AuditRecord.objects.filter(batch_id=batch_id)
        .order_by("id")
        .values_list("record_id", "fields", "at", "action", "actor", "actor_user", "interface", "record_type")
    )


def test_groups_and_a_dict_write_the_same_records_in_the_same_order(actor):
    first, second, third = (uuid.uuid4() for _ in range(3))
    common = {"actor": actor, "via": Interface.ADMIN, "record_type": RecordType.ORDER, "at": AT}
    from_dict = audit_records_create(
        changed_fields={first: ["b", "a"], second: [], third: ["a", "b"]}, **common
    )
    # Ids as UUIDs or as their text, each group's fields in any order: stored sorted.
    from_groups = audit_records_create(
        changed_fields=ChangedGroups([(("b", "a"), [first, str(third)]), ((), [second])]), **common
    )

    expected = [
        (pk, fields, AT, AuditAction.ANONYMIZE, actor.label, actor.user.pk, "admin", "order")
        for pk, fields in ((first, ["a", "b"]), (third, ["a", "b"]), (second, []))
    ]
    assert written(from_dict) == written(from_groups) == expected


def test_field_names_are_sorted_as_python_sorts_them(actor):
    names = ["custom_attributes.é-name.value", "custom_attributes.Z.value", "customer.email", "B", "a"]
    batch_id = audit_records_create(
        actor=actor,
        via=Interface.API,
        record_type=RecordType.ORDER,
        changed_fields={uuid.uuid4(): names},
        at=AT,
    )
    assert AuditRecord.objects.get(batch_id=batch_id).fields == sorted(names)
