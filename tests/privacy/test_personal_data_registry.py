"""The personal-field register really catches a field nobody classified.

tests/core/test_personal_data.py fails on an unclassified text field; these
tests give a model such a field and check that it does fail, and widen the net
to any field that can hold free text (an IP address, a file name, bytes), not
only CharField / TextField / JSONField.
"""

import itertools

import pytest
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models

from orders.models import Order
from privacy.personal_data import NOT_PERSONAL, PERSONAL, REGISTERED_APPS
from tests.privacy import test_personal_data as register_test

# Column types that cannot carry a name, an email or an address: numbers,
# flags, dates, generated ids and links to other rows. Every other type counts.
CANNOT_HOLD_TEXT = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,  # and its Big/Small/Positive kinds
    models.DecimalField,
    models.FloatField,
    models.BooleanField,
    models.DateField,  # and DateTimeField
    models.TimeField,
    models.DurationField,
    models.UUIDField,
    models.ForeignKey,  # and OneToOneField
)

_names = itertools.count(1)


def fields_that_can_hold_text() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for app_label in REGISTERED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            for field in model._meta.concrete_fields:
                # An array holds what its element type holds (a job chunk's ids: UUIDs).
                element = field.base_field if isinstance(field, ArrayField) else field
                if not isinstance(element, CANNOT_HOLD_TEXT):
                    found.setdefault(model._meta.label, set()).add(field.name)
    return found


def unclassified(found: dict[str, set[str]]) -> dict[str, set[str]]:
    return {
        label: left
        for label, names in found.items()
        if (left := names - PERSONAL.get(label, frozenset()) - NOT_PERSONAL.get(label, frozenset()))
    }


def test_every_field_that_can_hold_text_is_classified():
    assert unclassified(fields_that_can_hold_text()) == {}


@pytest.fixture
def throwaway_model():
    """Defines models in the orders app for one test, and takes them out of the registry after."""
    defined = []

    def define(**fields):
        name = f"Throwaway{next(_names)}"
        model = type(name, (models.Model,), {"__module__": "orders.models", **fields})
        defined.append(model)
        return model

    yield define
    for model in defined:
        del apps.all_models["orders"][model._meta.model_name]
    apps.clear_cache()


def test_a_new_model_with_an_unclassified_text_field_fails_the_register_test(throwaway_model):
    throwaway_model(nickname=models.CharField(max_length=50))

    with pytest.raises(AssertionError, match="nickname"):
        register_test.test_every_text_field_is_classified_exactly_once()


def test_an_existing_model_gaining_a_text_field_fails_the_register_test(monkeypatch):
    nickname = models.TextField()
    nickname.set_attributes_from_name("nickname")
    monkeypatch.setattr(Order._meta, "concrete_fields", (*Order._meta.concrete_fields, nickname))

    with pytest.raises(AssertionError, match=r"orders\.Order has text fields \['nickname'\]"):
        register_test.test_every_text_field_is_classified_exactly_once()


def test_a_field_classified_both_ways_fails_the_register_test(monkeypatch):
    monkeypatch.setitem(NOT_PERSONAL, "orders.Order", NOT_PERSONAL["orders.Order"] | {"customer_email"})

    with pytest.raises(AssertionError, match="customer_email"):
        register_test.test_every_text_field_is_classified_exactly_once()


@pytest.mark.parametrize(
    "field",
    [models.GenericIPAddressField(), models.FileField(), models.BinaryField(), models.EmailField()],
    ids=["ip-address", "file", "binary", "email"],
)
def test_the_wider_net_catches_text_the_register_test_does_not_look_for(throwaway_model, field):
    model = throwaway_model(last_seen=field)

    assert unclassified(fields_that_can_hold_text()) == {model._meta.label: {"last_seen"}}
