import uuid

import pytest

from core.api_keys import api_key_create
from core.audit import Actor
from core.errors import BatchRefused
from core.models import AuditRecord, Interface
from promotions.models import CodeUsage
from promotions.services import usages_anonymize


def test_masks_customer_email_and_names_the_actor(make_usage, actor):
    usage = make_usage()
    before = CodeUsage.objects.filter(pk=usage.pk).values().get()

    outcome = usages_anonymize(usage_ids=[str(usage.pk)], actor=actor, via=Interface.API)

    after = CodeUsage.objects.filter(pk=usage.pk).values().get()
    assert outcome.changed == [usage.pk]
    assert after["customer_email"] == "**" and after["anonymized"] is True
    assert after["updated_by"] == "officer" and after["updated_at"] > before["updated_at"]
    same = {k for k in before if k not in {"customer_email", "anonymized", "updated_by", "updated_at"}}
    assert {k: after[k] for k in same} == {k: before[k] for k in same}


def test_an_api_key_is_named_by_its_public_id_never_its_secret(make_usage, officer):
    key, token = api_key_create(name="integration", user=officer)
    usage = make_usage()
    usages_anonymize(usage_ids=[usage.pk], actor=Actor.for_api_key(key), via=Interface.API)
    usage.refresh_from_db()
    assert usage.updated_by == f"Key-{key.key_id}"
    assert token.split(".")[1] not in str(list(AuditRecord.objects.values()))
    assert AuditRecord.objects.get().actor_key == key


def test_unknown_ids_refuse_the_whole_batch(make_usage, actor):
    usage = make_usage()
    unknown = uuid.uuid4()
    with pytest.raises(BatchRefused) as refused:
        usages_anonymize(usage_ids=[usage.pk, unknown], actor=actor, via=Interface.API)
    assert refused.value.status == 404
    assert [p.meta for p in refused.value.problems] == [{"usage_id": str(unknown)}]
    usage.refresh_from_db()
    assert usage.anonymized is False and usage.customer_email.endswith("@example.com")


def test_already_anonymized_usages_are_left_as_they_are(make_usage, actor, officer):
    usage = make_usage()
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)
    key, _ = api_key_create(name="later", user=officer)
    outcome = usages_anonymize(usage_ids=[usage.pk], actor=Actor.for_api_key(key), via=Interface.API)
    usage.refresh_from_db()
    assert outcome.already_anonymized == [usage.pk] and usage.updated_by == "officer"
    assert AuditRecord.objects.count() == 1


def test_an_empty_email_is_not_counted_as_changed(make_usage, actor):
    usage = make_usage(customer_email=None)
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.COMMAND)
    usage.refresh_from_db()
    assert usage.customer_email is None and usage.anonymized
    assert AuditRecord.objects.get().fields == []


@pytest.mark.parametrize("size", [1, 500])
def test_a_batch_is_a_fixed_handful_of_queries(
    make_usage, make_promotion, actor, django_assert_num_queries, size
):
    promotion = make_promotion()
    ids = [make_usage(promotion=promotion).pk for _ in range(size)]
    # The savepoint and its release (the test's transaction), one statement that
    # locks and masks, the audit INSERT.
    with django_assert_num_queries(4) as captured:
        usages_anonymize(usage_ids=ids, actor=actor, via=Interface.API)
    statements = [query["sql"] for query in captured.captured_queries]
    assert "FOR UPDATE" in statements[1] and "UPDATE" in statements[1].split("FOR UPDATE", 1)[1]
    assert statements[2].strip().startswith('INSERT INTO "core_auditrecord"')
    assert CodeUsage.objects.filter(anonymized=True).count() == size


def test_returning_gives_each_changed_usage_as_it_is_after_the_change(make_usage, actor, settings):
    fresh, done = make_usage(), make_usage()
    usages_anonymize(usage_ids=[done.pk], actor=actor, via=Interface.API)
    outcome = usages_anonymize(
        usage_ids=[done.pk, fresh.pk], actor=actor, via=Interface.API, returning="customer_email"
    )
    # Only the usage this call changed; its email is already the mask.
    assert outcome.returned == {fresh.pk: settings.PRIVACY_MASK}
    assert outcome.already_anonymized == [done.pk]


def test_without_returning_nothing_is_returned(make_usage, actor):
    outcome = usages_anonymize(usage_ids=[make_usage().pk], actor=actor, via=Interface.API)
    assert outcome.returned == {}
