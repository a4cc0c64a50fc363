"""PostgreSQL writes each code usage's EPCC document itself (epcc.documents.usages, the one builder), and it
is EPCC's document: as the rows spell it (tests.epcc.documents), and as the seeds are, literally."""

import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from epcc.documents.usages import usages_documents, usages_epcc_json
from promotions.models import CodeUsage
from tests.epcc.documents import expected_usage_document

pytestmark = pytest.mark.django_db

TESTS = Path(__file__).resolve().parents[1]
SEEDS = [
    TESTS / "fixtures" / "seed_000_usage.json",
    TESTS / "fixtures" / "seed_001_usages.json",
    TESTS.parent / "demo" / "fixtures" / "epcc" / "seed_usages.json",
]
SEED_PROMOTION = "26067b82-a50c-462c-b3ed-1ca77aa13bd1"


def assert_expected_documents(usage_ids):
    """SQL's texts, parsed, are the expected documents, keys in the same order, in request order."""
    texts = usages_epcc_json(usage_ids)
    existing = set(CodeUsage.objects.filter(pk__in=usage_ids).values_list("pk", flat=True))
    expected = [expected_usage_document(pk) for pk in dict.fromkeys(usage_ids) if pk in existing]
    documents = [json.loads(text) for text in texts]
    assert documents == expected
    assert [json.dumps(d) for d in documents] == [json.dumps(d) for d in expected]
    assert usages_documents(usage_ids) == documents
    return documents


def test_a_usage_with_everything(make_usage):
    usage = make_usage(
        account_id=uuid.uuid4(), updated_by="officer@example.com", anonymized=True, times_used=3
    )
    [document] = assert_expected_documents([usage.pk])
    assert list(document) == [
        "id",
        "order_id",
        "code_id",
        "code",
        "times_used",
        "used_on",
        "customer_id",
        "customer_email",
        "meta",
        "updated_by",
        "anonymized",
        "account_id",
    ]


def test_optional_keys_left_out_and_nullable_keys_null(make_usage):
    bare = make_usage(order_id=None, customer_id=None, customer_email=None, account_id=None, updated_by=None)
    empty_updated_by = make_usage(updated_by="", customer_email="")
    first, second = assert_expected_documents([bare.pk, empty_updated_by.pk])
    assert first["order_id"] is None and first["customer_email"] is None
    assert not {"customer_id", "updated_by", "account_id"} & set(first)
    assert "updated_by" not in second and second["customer_email"] == ""


def test_text_needing_escapes(make_usage):
    usage = make_usage(code='Sommer "10" \\ ü 🎁', customer_email="o'brien@example.com\n")
    [document] = assert_expected_documents([usage.pk])
    assert document["code"] == 'Sommer "10" \\ ü 🎁'


@pytest.mark.parametrize("microsecond", [0, 999, 1000, 123456])
def test_timestamps(make_usage, microsecond):
    at = datetime(2024, 8, 15, 23, 27, 18, microsecond, tzinfo=UTC)
    usage = make_usage(used_on=at, updated_at=at.replace(microsecond=0))
    assert_expected_documents([usage.pk])


def test_request_order_kept_unknown_ids_skipped(make_usage):
    usages = [make_usage() for _ in range(3)]
    requested = [usages[1].pk, uuid.uuid4(), usages[2].pk, usages[1].pk, usages[0].pk]
    documents = assert_expected_documents(requested)
    assert [d["id"] for d in documents] == [str(u.pk) for u in (usages[1], usages[2], usages[0])]


def test_500_usages_in_one_query(make_usage, make_promotion, django_assert_num_queries):
    first = make_usage()
    usages = CodeUsage.objects.bulk_create(
        CodeUsage(
            promotion_id=first.promotion_id,
            promotion_code_id=first.promotion_code_id,
            code="SUMMER10",
            customer_email=f"s{n}@example.com" if n % 2 else None,
            customer_id=uuid.uuid4() if n % 3 else None,
        )
        for n in range(499)
    )
    ids = [first.pk, *(u.pk for u in usages)]
    with django_assert_num_queries(1):
        texts = usages_epcc_json(ids)
    assert len(texts) == 500
    assert_expected_documents(ids)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_usages_round_trip(path):
    call_command("import_ep", str(path), promotion=SEED_PROMOTION, stdout=io.StringIO())
    seeds = json.loads(path.read_text())["data"]
    ids = [uuid.UUID(document["id"]) for document in seeds]
    assert [json.loads(text) for text in usages_epcc_json(ids)] == seeds
    assert_expected_documents(ids)


def test_documents_written_by_the_anonymizing_update(make_usage, actor, django_assert_num_queries):
    """The UPDATE's RETURNING writes the changed usages' documents, as they are after the change;
    a usage left as it was (already anonymized) is read by one SELECT."""
    from core.models import Interface
    from epcc.documents.usages import usage_document
    from promotions.services import usages_anonymize

    first, second, done = make_usage(customer_email="a@example.com"), make_usage(), make_usage()
    usages_anonymize(usage_ids=[done.pk], actor=actor, via=Interface.API)
    requested = [second.pk, done.pk, first.pk]
    outcome = usages_anonymize(
        usage_ids=requested, actor=actor, via=Interface.API, returning=usage_document()
    )
    assert set(outcome.returned) == {first.pk, second.pk}
    with django_assert_num_queries(1):
        texts = usages_epcc_json(requested, written=outcome.returned)
    assert texts[0] == outcome.returned[second.pk] and texts[2] == outcome.returned[first.pk]
    documents = [json.loads(text) for text in texts]
    assert documents == assert_expected_documents(requested)
    assert documents[2]["customer_email"] != "a@example.com" and documents[2]["anonymized"] is True
    with django_assert_num_queries(0):
        assert usages_epcc_json([first.pk], written=outcome.returned) == [outcome.returned[first.pk]]
