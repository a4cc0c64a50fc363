"""The filter of EPCC's Personal Data API: `eq(resource_type,X):eq(resource_id,Y)`.

Both terms are required and the only ones allowed (EPCC's rule, SPEC section 7);
anything else is a 400 with EPCC's exact detail. `resource_type` is one of
RESOURCE_TYPES, in EPCC's hyphenated spelling too (`code-usage`); `resource_id`
is a UUID (every id this back-office holds is one).
"""

import uuid
from dataclasses import dataclass

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework.exceptions import ParseError

from epcc.filtering import UUID_PATTERN, FilterField, FilterSyntaxError, parse_filter

BAD_FILTER_DETAIL = (
    "bad filter: resource_id and resource_type are the filter fields that are both mandatory "
    "and only they are allowed"
)
BAD_RESOURCE_TYPE_DETAIL = (
    "bad filter: resource_type must be one of {types} (hyphens accepted, e.g. {example})"
)
BAD_RESOURCE_ID_DETAIL = "bad filter: resource_id must be a UUID"

# The resource types the API knows, as it writes them; a customer or an account is
# known by its id on orders and code usages.
CUSTOMER, ACCOUNT, ORDER, CODE_USAGE = "customer", "account", "order", "code_usage"
RESOURCE_TYPES = (CUSTOMER, ACCOUNT, ORDER, CODE_USAGE)

FILTER_FIELDS = {"resource_type": FilterField.text("eq"), "resource_id": FilterField.text("eq")}
_TYPE_PATTERN = "(?:" + "|".join([*RESOURCE_TYPES, "code-usage"]) + ")"
_TYPE_TERM = rf"eq\(resource_type,{_TYPE_PATTERN}\)"
_ID_TERM = rf"eq\(resource_id,{UUID_PATTERN}\)"
# The filters the schema promises to accept (the API also takes any case and quoted values).
FILTER_PATTERN = f"^(?:{_TYPE_TERM}:{_ID_TERM}|{_ID_TERM}:{_TYPE_TERM})$"
FILTER_EXAMPLE = "eq(resource_type,customer):eq(resource_id,0f850c15-d643-480a-a2b4-9e3c26067178)"


class BadFilter(ParseError):
    """A 400 whose entry names the `filter` parameter."""


@dataclass(frozen=True)
class Subject:
    """The resource a Personal Data API call is about."""

    resource_type: str
    resource_id: uuid.UUID


def resource_type_of(text: str) -> str:
    """The resource type `text` names (any case, hyphens or underscores), or a BadFilter."""
    name = text.strip().lower().replace("-", "_")
    if name not in RESOURCE_TYPES:
        raise BadFilter(
            BAD_RESOURCE_TYPE_DETAIL.format(types=", ".join(RESOURCE_TYPES), example="code-usage")
        )
    return name


def resource_id_of(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise BadFilter(BAD_RESOURCE_ID_DETAIL) from None


def subject_of_filter(values: list[str]) -> Subject:
    """The Subject of a request's `filter` values (the parameter given once), or a BadFilter."""
    if len(values) != 1:
        raise BadFilter(BAD_FILTER_DETAIL)
    try:
        terms = parse_filter(values[0], FILTER_FIELDS)
    except FilterSyntaxError:
        raise BadFilter(BAD_FILTER_DETAIL) from None
    given = {term.field: term.value for term in terms}
    if len(terms) != 2 or set(given) != set(FILTER_FIELDS):
        raise BadFilter(BAD_FILTER_DETAIL)
    return Subject(resource_type_of(given["resource_type"]), resource_id_of(given["resource_id"]))


def filter_parameter() -> OpenApiParameter:
    """The OpenAPI description of the `filter` query parameter of these lists."""
    return OpenApiParameter(
        "filter",
        str,
        OpenApiParameter.QUERY,
        required=True,
        description=(
            "eq(resource_type,X):eq(resource_id,Y), both terms and nothing else. resource_type: "
            + ", ".join(RESOURCE_TYPES)
            + " (EPCC's hyphenated spellings accepted); resource_id: the resource's UUID. "
            f"Anything else is a 400: {BAD_FILTER_DETAIL}."
        ),
        pattern=FILTER_PATTERN,
        examples=[OpenApiExample("A customer", value=FILTER_EXAMPLE)],
    )
