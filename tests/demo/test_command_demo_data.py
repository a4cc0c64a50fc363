"""demo_data: reproducible, every status combination, the popular code, people in both tables."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min

from demo.data import ALL_COMBINATIONS, POPULAR_CODE
from orders.models import ANONYMIZABLE, LegalHold, Order, OrderAddress, OrderCustomAttribute, OrderItem
from promotions.models import CodeUsage, Promotion, PromotionCode

pytestmark = pytest.mark.django_db

TODAY = "2026-06-30"
DEMO_MODELS = (
    Order,
    OrderAddress,
    OrderCustomAttribute,
    OrderItem,
    LegalHold,
    Promotion,
    PromotionCode,
    CodeUsage,
)


def demo_data(*args):
    out = StringIO()
    call_command("demo_data", *args, "--today", TODAY, stdout=out)
    return out.getvalue()


def snapshot():
    """Every row of every demo table, ids included (autoincrement ids left out)."""
    rows = {}
    for model in DEMO_MODELS:
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if not (f.primary_key and not f.is_relation and f.get_internal_type() == "BigAutoField")
        ]
        rows[model._meta.label] = sorted(map(repr, model.objects.values_list(*names)))
    return rows


def test_counts_and_shape():
    output = demo_data("--orders", "120", "--usages", "600", "--seed", "3")

    assert "Demo data (seed 3) loaded" in output
    assert "orders: 120/120" in output and "usages: 600/600" in output
    assert Order.objects.count() == 120
    assert CodeUsage.objects.count() == 600
    assert OrderAddress.objects.count() == 240
    assert set(OrderAddress.objects.values_list("kind", flat=True).distinct()) == {"shipping", "billing"}
    per_order = Order.objects.annotate(
        n_addresses=Count("addresses", distinct=True),
        n_attributes=Count("custom_attributes", distinct=True),
        n_items=Count("items", distinct=True),
    )
    assert not per_order.exclude(n_addresses=2).exists()
    assert not per_order.filter(n_attributes=0).exists()
    assert not per_order.filter(n_items=0).exists()


def test_every_status_combination_is_present():
    demo_data("--orders", str(len(ALL_COMBINATIONS)), "--usages", "0")

    present = set(Order.objects.values_list("status", "payment", "shipping"))
    assert present == set(ALL_COMBINATIONS)
    assert len(present) == 4 * 6 * 2


def test_same_seed_gives_the_same_data_ids_included():
    demo_data("--orders", "80", "--usages", "300", "--seed", "7")
    first = snapshot()
    demo_data("--orders", "80", "--usages", "300", "--seed", "7", "--replace")
    again = snapshot()
    demo_data("--orders", "80", "--usages", "300", "--seed", "8", "--replace")
    other = snapshot()

    assert first == again
    assert first["orders.Order"] != other["orders.Order"]
    assert first["promotions.CodeUsage"] != other["promotions.CodeUsage"]


def test_more_usages_leave_the_orders_as_they_were():
    demo_data("--orders", "50", "--usages", "10", "--seed", "7")
    orders = snapshot()["orders.Order"]
    demo_data("--orders", "50", "--usages", "200", "--seed", "7", "--replace")

    assert snapshot()["orders.Order"] == orders


def test_one_code_has_more_than_half_of_the_usages():
    demo_data("--orders", "20", "--usages", "1000")

    popular = PromotionCode.objects.get(code=POPULAR_CODE)
    assert popular.usages.count() == 520
    busiest = CodeUsage.objects.values("promotion_code").annotate(n=Count("id")).order_by("-n")[0]
    assert busiest["promotion_code"] == popular.pk
    # Usages are spread over promotions and over time.
    assert CodeUsage.objects.values("promotion").distinct().count() > 5
    span = CodeUsage.objects.aggregate(first=Min("used_on"), last=Max("used_on"))
    assert span["last"] - span["first"] > timedelta(days=700)


def test_history_spans_about_three_years_ending_today():
    demo_data("--orders", "300", "--usages", "0")

    span = Order.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["last"].date() < date.fromisoformat(TODAY)
    assert span["last"] - span["first"] > timedelta(days=2 * 365)


def test_some_orders_are_held_or_already_anonymized():
    demo_data("--orders", "600", "--usages", "600")

    anonymized = Order.objects.filter(anonymized=True)
    assert anonymized.exists()
    assert not anonymized.exclude(customer_email="**").exists()
    assert not anonymized.exclude(ANONYMIZABLE).exists()
    assert not OrderAddress.objects.filter(order__anonymized=True).exclude(first_name="**").exists()
    assert LegalHold.objects.active(date.fromisoformat(TODAY)).exists()
    assert CodeUsage.objects.filter(anonymized=True, customer_email="**").exists()
    # Some orders may be anonymized and are not held: the work the retention job and the API do.
    assert Order.objects.filter(ANONYMIZABLE, anonymized=False).exclude(holds__isnull=False).exists()


def test_a_person_is_found_in_orders_and_in_usages():
    demo_data("--orders", "200", "--usages", "2000")

    order_emails = set(Order.objects.filter(anonymized=False).values_list("customer_email", flat=True))
    usage_emails = {
        e.lower() for e in CodeUsage.objects.filter(anonymized=False).values_list("customer_email", flat=True)
    }
    assert order_emails & usage_emails
    shared = CodeUsage.objects.exclude(order_id=None).filter(order_id__in=Order.objects.values("id"))
    assert shared.exists()


def test_refuses_to_load_over_existing_data_without_replace():
    demo_data("--orders", "5", "--usages", "5")

    with pytest.raises(CommandError, match="--replace"):
        demo_data("--orders", "5", "--usages", "5")
    assert Order.objects.count() == 5
