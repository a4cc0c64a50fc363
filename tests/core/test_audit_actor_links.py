"""Audit records outlive their actors: the links have no database constraint, Django clears them."""

import pytest
from django.db import connection

from core.api_keys import api_key_create
from core.audit import Actor
from core.models import ApiKey, AuditRecord, Interface
from promotions.services import usages_anonymize

pytestmark = pytest.mark.django_db(transaction=True)


def _constraint_names() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AuditRecord._meta.db_table)
    return {str(c["foreign_key"]) for c in constraints.values() if c["foreign_key"]}


def test_only_the_erasure_request_link_is_a_database_constraint():
    links = _constraint_names()
    assert any("erasurerequest" in link for link in links)
    assert not any("apikey" in link or "auth_user" in link for link in links)


def test_deleting_the_key_and_the_user_keeps_the_records_and_the_actor_name(make_usage, officer):
    key, _ = api_key_create(name="integration", user=officer)
    usages_anonymize(usage_ids=[make_usage().pk], actor=Actor.for_api_key(key), via=Interface.API)
    record = AuditRecord.objects.get()
    assert (record.actor_key_id, record.actor_user_id) == (key.pk, officer.pk)

    ApiKey.objects.filter(pk=key.pk).delete()
    record.refresh_from_db()
    assert record.actor_key_id is None and record.actor_user_id == officer.pk

    officer.delete()
    record.refresh_from_db()
    assert record.actor_user_id is None and record.actor == key.label
