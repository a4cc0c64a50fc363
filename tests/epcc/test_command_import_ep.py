"""import_ep: EPCC documents in, the same documents out; a bad file loads nothing."""

import copy
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from epcc.documents.orders import order_document
from epcc.documents.usages import usages_documents
from orders.models import Order, OrderAddress, OrderItem
from promotions.models import CodeUsage, Promotion, PromotionCode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO_FIXTURES = Path(__file__).resolve().parents[2] / "demo" / "fixtures" / "epcc"
PROMOTION = "26067b82-a50c-462c-b3ed-1ca77aa13bd1"

pytestmark = pytest.mark.django_db


def seed(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def write(tmp_path, name: str, document) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def import_ep(*args, **options):
    """Runs the command; returns (stdout, stderr, error or None)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_ep", *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def test_seed_003_order_round_trips_to_the_same_document(tmp_path):
    document = seed("seed_003_order.json")
    _, _, error = import_ep(write(tmp_path, "order.json", document))
    assert error is None
    order = Order.objects.get()
    assert order_document(order.pk) == document["data"][0]
    assert OrderItem.objects.count() == 6


@pytest.mark.parametrize("name", ["seed_000_usage.json", "seed_001_usages.json"])
def test_seed_usages_round_trip_to_the_same_documents(tmp_path, name):
    document = seed(name)
    _, _, error = import_ep(write(tmp_path, name, document), promotion=PROMOTION)
    assert error is None
    usages = usages_documents(list(CodeUsage.objects.values_list("pk", flat=True)))
    assert usages == document["data"]
    code = PromotionCode.objects.get()
    assert str(code.id) == document["data"][0]["code_id"]
    assert str(code.promotion_id) == PROMOTION


def test_a_usage_document_needs_its_promotion(tmp_path):
    _, err, error = import_ep(write(tmp_path, "usages.json", seed("seed_001_usages.json")))
    assert error is not None
    assert "--promotion" in err and "usages.json" in err
    assert not CodeUsage.objects.exists() and not Promotion.objects.exists()


def test_importing_twice_updates_in_place(tmp_path):
    path = write(tmp_path, "order.json", seed("seed_003_order.json"))
    import_ep(path)
    out, _, error = import_ep(path)
    assert error is None
    assert "0 orders created, 1 orders updated" in out
    assert Order.objects.count() == 1 and OrderAddress.objects.count() == 2 and OrderItem.objects.count() == 6


def test_an_order_anonymized_here_stays_anonymized_when_reimported(tmp_path, make_order, actor):
    from core.models import Interface
    from orders.services import orders_anonymize

    document = json.loads((DEMO_FIXTURES / "seed_orders.json").read_text())
    path = write(tmp_path, "orders.json", document)
    import_ep(path)
    orders_anonymize(order_ids=[document["data"][0]["id"]], actor=actor, via=Interface.COMMAND)

    import_ep(path)  # the EPCC copy still carries the personal values

    order = Order.objects.get(pk=document["data"][0]["id"])
    assert order.anonymized and order.customer_email == "**"
    assert set(OrderAddress.objects.filter(order=order).values_list("first_name", flat=True)) == {"**"}


def _order_with(**changes) -> dict:
    document = copy.deepcopy(seed("seed_003_order.json"))
    good = copy.deepcopy(document["data"][0])
    bad = copy.deepcopy(good)
    bad["id"] = "1b508e02-d3de-4673-83ca-087875d06d8f"
    bad["customer"] = {"name": "Secret Person", "email": "secret.person@example.com"}
    for key, value in changes.items():
        if value is None:
            bad.pop(key)
        else:
            bad[key] = value
    document["data"] = [good, bad]
    return document


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"status": "shipped"},
            'data[1] (id 1b508e02-d3de-4673-83ca-087875d06d8f): unknown status value "shipped"',
        ),
        ({"payment": "half"}, 'unknown payment value "half"'),
        ({"id": None}, "data[1]: missing id"),
        ({"id": "not-a-uuid"}, "data[1] (id not-a-uuid): malformed id (not a UUID)"),
        ({"type": "cart"}, 'data[1] (id 1b508e02-d3de-4673-83ca-087875d06d8f): unknown type "cart"'),
        ({"customer": "Ada"}, "customer must be an object"),
    ],
)
def test_a_bad_record_names_file_and_record_and_loads_nothing(tmp_path, changes, message):
    path = write(tmp_path, "bad.json", _order_with(**changes))
    _, err, error = import_ep(path)
    assert error is not None, "a bad file must exit non-zero"
    assert f"{path}: " in err and message in err
    assert "nothing of this file was loaded" in err
    assert not Order.objects.exists(), "the good record before the bad one must not be loaded either"
    assert "secret.person" not in err and "Secret Person" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", 'expected an object with "data"'),
        ('{"data": 3}', '"data" must be an object or a list of objects'),
        ('{"data": [3]}', "data[0]: not an object"),
    ],
)
def test_a_file_that_is_not_an_epcc_document_is_refused(tmp_path, content, message):
    _, err, error = import_ep(write(tmp_path, "bad.json", content))
    assert error is not None
    assert message in err


def test_a_duplicate_id_in_one_file_is_refused(tmp_path):
    document = seed("seed_003_order.json")
    document["data"] = document["data"] * 2
    _, err, error = import_ep(write(tmp_path, "dup.json", document))
    assert error is not None and "appears twice" in err
    assert not Order.objects.exists()


def test_other_files_still_load_when_one_is_bad(tmp_path):
    good = write(tmp_path, "good.json", seed("seed_003_order.json"))
    bad = write(tmp_path, "bad.json", "{")
    out, err, error = import_ep(bad, good)
    assert "1 of 2 file(s) could not be loaded" in str(error)
    assert "bad.json" in err and "good.json" in out
    assert Order.objects.count() == 1


def test_a_missing_file_is_reported(tmp_path):
    _, err, error = import_ep(str(tmp_path / "nope.json"))
    assert error is not None and "no such file" in err


def test_a_single_object_document_and_included_items_load(tmp_path):
    document = seed("seed_003_order.json")
    order = document["data"][0]
    first = order["relationships"]["items"]["data"][0]["id"]
    included = {
        "items": [
            {
                "type": "order_item",
                "id": first,
                "name": "Blue shirt",
                "sku": "SHIRT-BLUE",
                "quantity": 2,
                "unit_price": {"amount": 1500, "currency": "GBP", "includes_tax": True},
            }
        ]
    }
    _, _, error = import_ep(write(tmp_path, "one.json", {"data": order, "included": included}))
    assert error is None
    item = OrderItem.objects.get(pk=first)
    assert (item.name, item.sku, item.quantity, item.unit_amount, item.currency) == (
        "Blue shirt",
        "SHIRT-BLUE",
        2,
        1500,
        "GBP",
    )


def test_usages_of_one_code_in_any_case_share_the_code(tmp_path):
    document = seed("seed_001_usages.json")
    second = copy.deepcopy(document["data"][0])
    second.update(id="16a80700-4895-4d74-b96f-3ea39417ed29", code="BXGY")
    del second["code_id"]
    document["data"].append(second)
    _, _, error = import_ep(write(tmp_path, "usages.json", document), promotion=PROMOTION)
    assert error is None
    assert PromotionCode.objects.count() == 1
    assert CodeUsage.objects.filter(promotion_code__code="bxgy").count() == 2


def test_a_code_id_of_another_promotion_is_refused(tmp_path, make_promotion):
    other = make_promotion(codes=())
    document = seed("seed_001_usages.json")
    PromotionCode.objects.create(id=document["data"][0]["code_id"], promotion=other, code="bxgy")
    _, err, error = import_ep(write(tmp_path, "usages.json", document), promotion=PROMOTION)
    assert error is not None and "belongs to another promotion" in err
    assert not CodeUsage.objects.exists()
    assert not Promotion.objects.filter(pk=PROMOTION).exists()


def test_an_anonymized_usage_stays_anonymized_when_reimported(tmp_path, actor):
    from core.models import Interface
    from promotions.services import usages_anonymize

    document = seed("seed_001_usages.json")
    path = write(tmp_path, "usages.json", document)
    import_ep(path, promotion=PROMOTION)
    usages_anonymize(usage_ids=[document["data"][0]["id"]], actor=actor, via=Interface.COMMAND)
    import_ep(path, promotion=PROMOTION)
    usage = CodeUsage.objects.get()
    assert usage.anonymized and usage.customer_email == "**"


def test_the_demo_fixtures_load(tmp_path):
    import_ep(str(DEMO_FIXTURES / "seed_orders.json"))
    _, _, error = import_ep(str(DEMO_FIXTURES / "seed_usages.json"), promotion=PROMOTION)
    assert error is None
    assert Order.objects.count() == 2 and CodeUsage.objects.count() == 2
