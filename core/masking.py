"""The mask and the rule of what it replaces (a value neither NULL nor empty).

The masking statements (orders.masking_sql, promotions.masking_sql) write
the same rule as SQL; the reviews read it as these annotations.
"""

from django.conf import settings
from django.db.models import BooleanField, Case, Q, Value, When


def mask() -> str:
    return settings.PRIVACY_MASK


def has_value(field: str) -> Q:
    """A personal field counts as set when it is neither NULL nor empty."""
    return Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})


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
