"""The mask, as data and as SQL: one definition for every anonymization."""

from django.conf import settings
from django.db.models import BooleanField, Case, F, Q, Value, When


def mask() -> str:
    return settings.PRIVACY_MASK


def has_value(field: str) -> Q:
    """A personal field counts as set when it is neither NULL nor empty."""
    return Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})


def masked(field: str) -> Case:
    """SQL for 'the mask where there is a value, else the value as it is'."""
    return Case(When(has_value(field), then=Value(mask())), default=F(field))


def value_flags(fields) -> dict:
    """Annotations telling, per field, whether it holds a value.

    Lets a service learn which fields it changes without reading a personal value.
    """
    return {
        f"has_{name}": Case(
            When(has_value(name), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
        for name in fields
    }


def mask_python(value):
    """The same rule for a value already in memory (previews, exports)."""
    if value is None or value == "":
        return value
    return mask()
