"""The register of personal fields covers every text field, and the services mask all of them."""

from django.apps import apps
from django.db import models

from core.models import Interface
from orders.models import Order, OrderAddress, OrderCustomAttribute
from orders.services import orders_anonymize
from privacy.personal_data import NOT_PERSONAL, PERSONAL, REGISTERED_APPS
from promotions.models import CodeUsage
from promotions.services import usages_anonymize

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def text_fields_of_registered_models() -> dict[str, set[str]]:
    found = {}
    for app_label in REGISTERED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            names = {f.name for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)}
            if names:
                found[model._meta.label] = names
    return found


def test_every_text_field_is_classified_exactly_once():
    for label, names in text_fields_of_registered_models().items():
        personal = PERSONAL.get(label, frozenset())
        other = NOT_PERSONAL.get(label, frozenset())
        assert not personal & other, f"{label}: {sorted(personal & other)} is both personal and not"
        unclassified = names - personal - other
        assert not unclassified, (
            f"{label} has text fields {sorted(unclassified)} not in privacy/personal_data.py: "
            "say whether they are personal (and make the services mask them) or not"
        )


def test_the_register_names_only_fields_that_exist():
    found = text_fields_of_registered_models()
    for register in (PERSONAL, NOT_PERSONAL):
        for label, names in register.items():
            assert names <= found.get(label, set()), f"{label}: {sorted(names - found.get(label, set()))}"


def test_anonymizing_masks_every_registered_personal_field(make_order, make_usage, actor):
    order = make_order(attributes={"note": "call me"})
    personal_order = {name: f"personal-{name}" for name in PERSONAL["orders.Order"]}
    Order.objects.filter(pk=order.pk).update(**personal_order)
    OrderAddress.objects.filter(order=order).update(
        **{name: f"personal-{name}" for name in PERSONAL["orders.OrderAddress"]}
    )
    usage = make_usage()
    CodeUsage.objects.filter(pk=usage.pk).update(
        **{name: f"personal-{name}" for name in PERSONAL["promotions.CodeUsage"]}
    )

    orders_anonymize(order_ids=[order.pk], actor=actor, via=Interface.API)
    usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.API)

    rows = [
        *Order.objects.filter(pk=order.pk).values(*PERSONAL["orders.Order"]),
        *OrderAddress.objects.filter(order=order).values(*PERSONAL["orders.OrderAddress"]),
        *OrderCustomAttribute.objects.filter(order=order).values(*PERSONAL["orders.OrderCustomAttribute"]),
        *CodeUsage.objects.filter(pk=usage.pk).values(*PERSONAL["promotions.CodeUsage"]),
    ]
    assert len(rows) == 5
    for row in rows:
        assert set(row.values()) == {"**"}, row
