"""Property tests of EPCC's filter parser, and of the endpoints that take a filter.

Any text parses or raises FilterSyntaxError (never another exception);
parse -> format -> parse is stable; over HTTP any filter is a 200 or a 400 in
EPCC's envelope, never a 500. Bounded example counts; HARDENING_EXAMPLES
multiplies them for a longer local run.
"""

import os
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.api_keys import api_key_create
from epcc.filtering import OPERATORS, FilterSyntaxError, FilterTerm, format_filter, parse_filter
from epcc.order_filters import ORDER_FILTER_FIELDS
from epcc.usage_filters import USAGE_FILTER_FIELDS

SCALE = int(os.environ.get("HARDENING_EXAMPLES", "1"))
PARSER = settings(max_examples=300 * SCALE, deadline=None)
HTTP = settings(
    max_examples=60 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RESOURCES = {"usages": USAGE_FILTER_FIELDS, "orders": ORDER_FILTER_FIELDS}

# Characters that matter to the grammar, and some that tend to break what sits behind it
# (NUL, which PostgreSQL refuses in text; surrogates; URL and SQL specials).
TRICKY = "():,\"\\ *%_'\x00\t\n#&=?/+;" + "é😀\u202e"
values = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(TRICKY), max_size=30),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.uuids().map(str),
    st.sampled_from(["true", "false", "complete", "fulfilled", "SUMMER10", "*@example.com", "ada*"]),
)
field_names = st.sampled_from(
    sorted({*USAGE_FILTER_FIELDS, *ORDER_FILTER_FIELDS, "foo", "ID", "used-on", ""})
)
operators = st.sampled_from([*OPERATORS, "ne", "EQ", "in", ""])


@st.composite
def filter_like_text(draw):
    """Mostly well-formed terms, joined the way EPCC joins them, with some damage done."""
    terms = draw(st.lists(st.tuples(operators, field_names, values), min_size=1, max_size=12))
    quote = draw(st.booleans())
    parts = []
    for op, name, value in terms:
        shown = format_filter([FilterTerm(op, name, value)]).split(",", 1)[1][:-1] if quote else value
        parts.append(f"{op}({name},{shown})")
    text = (
        draw(st.sampled_from([":", "::", ": ", ","])).join(parts) if draw(st.booleans()) else ":".join(parts)
    )
    if draw(st.integers(0, 4)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]
    return text


any_filter = st.one_of(
    st.text(max_size=80), st.text(alphabet=TRICKY + string.ascii_lowercase), filter_like_text()
)


def parse_or_error(text, allowed):
    try:
        return parse_filter(text, allowed)
    except FilterSyntaxError as error:
        assert str(error), "a syntax error says what did not parse"
        return error


@pytest.mark.parametrize("resource", RESOURCES)
@PARSER
@given(text=any_filter)
def test_any_text_parses_or_is_a_filter_syntax_error(resource, text):
    result = parse_or_error(text, RESOURCES[resource])
    assert isinstance(result, list | FilterSyntaxError)
    if isinstance(result, list):
        assert len(result) <= 10
        assert all(term.op in OPERATORS and term.field in RESOURCES[resource] for term in result)


@pytest.mark.parametrize("resource", RESOURCES)
@PARSER
@given(text=any_filter)
def test_parse_format_parse_is_stable(resource, text):
    allowed = RESOURCES[resource]
    terms = parse_or_error(text, allowed)
    if isinstance(terms, list):
        formatted = format_filter(terms)
        assert parse_filter(formatted, allowed) == terms
        assert format_filter(parse_filter(formatted, allowed)) == formatted


@PARSER
@given(
    value=st.text(
        alphabet=st.characters(min_codepoint=0x20).filter(lambda c: c != "\x7f"), min_size=1, max_size=40
    )
)
def test_any_text_value_survives_format_then_parse(value):
    """Whatever a client searches for (quotes, commas, parentheses), formatting keeps it intact.

    (Control characters are refused in any value, quoted or not.)
    """
    terms = [FilterTerm("eq", "email", value), FilterTerm("like", "name", value)]
    assert parse_filter(format_filter(terms), ORDER_FILTER_FIELDS) == terms


# --- Over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def api_client(officer, client):
    _, token = api_key_create(name="filter-properties", user=officer)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.raise_request_exception = False
    return client


@pytest.fixture
def usage_list_paths(make_promotion, make_usage):
    promotion = make_promotion(codes=("SUMMER10",))
    for _ in range(3):
        make_usage(promotion=promotion, code="SUMMER10")
    return [
        f"/v2/rule-promotions/{promotion.pk}/usages",
        f"/v2/rule-promotions/{promotion.pk}/codes/SUMMER10/usages",
    ]


def assert_200_or_400(answer, text):
    assert answer.status_code in (200, 400), (answer.status_code, text, answer.content[:500])
    body = answer.json()
    if answer.status_code == 400:
        assert set(body) == {"errors"} and body["errors"]
        assert all(entry["status"] == 400 and entry["detail"] for entry in body["errors"])
    else:
        assert {"data", "links", "meta"} <= set(body)


@pytest.mark.django_db
@HTTP
@given(text=any_filter)
def test_usage_lists_answer_any_filter_with_200_or_400(api_client, usage_list_paths, text):
    for path in usage_list_paths:
        assert_200_or_400(api_client.get(path, {"filter": text}), text)


@pytest.mark.django_db
@HTTP
@given(text=any_filter)
def test_order_list_answers_any_filter_with_200_or_400(api_client, make_order, text):
    assert_200_or_400(api_client.get("/v2/orders", {"filter": text}), text)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        'eq(code,"\x00")',
        "eq(code,a\x00b)",
        'eq(email,"\x00")',
        'like(name,"*\x00*")',
        "like(email,*a*b*)",
        'like(name,"*(*")',
        "ge(used_on,9999-12-31T23:59:59-01:00)",
        "eq(used_on,0001-01-01T00:00:00+01:00)",
        "eq(used_on,9999-12-31)",
    ],
)
def test_known_awkward_filters_are_200_or_400(api_client, usage_list_paths, text):
    """Cases worth keeping whatever hypothesis draws: NUL (PostgreSQL refuses it), date edges."""
    field = text[text.index("(") + 1 : text.index(",")]
    if field in USAGE_FILTER_FIELDS:
        for path in usage_list_paths:
            assert_200_or_400(api_client.get(path, {"filter": text}), text)
    else:
        assert_200_or_400(api_client.get("/v2/orders", {"filter": text}), text)
