"""EPCC's filter grammar (epcc.filtering) and the FilterSets it feeds."""

import re
from datetime import UTC, date, datetime

import pytest

from epcc.filtering import (
    MAX_TERMS,
    FilterField,
    FilterSyntaxError,
    FilterTerm,
    datetime_lookups,
    filter_pattern,
    filterset_data,
    filterset_layers,
    format_filter,
    like_lookup,
    parse_date_or_datetime,
    parse_filter,
)
from epcc.order_filters import ORDER_FILTER_FIELDS, OrderFilterSet
from epcc.usage_filters import USAGE_FILTER_FIELDS, CodeUsageFilterSet

ANYTHING = {"a": ["eq", "like"], "b": ["eq", "gt", "ge", "lt", "le"], "c": ["eq"]}


def test_terms_are_read_in_order():
    assert parse_filter("eq(code,cart1off):gt(used_on,2023-07-11)", USAGE_FILTER_FIELDS) == [
        FilterTerm("eq", "code", "cart1off"),
        FilterTerm("gt", "used_on", "2023-07-11"),
    ]


@pytest.mark.parametrize("text", [None, ""])
def test_no_filter_is_no_terms(text):
    assert parse_filter(text, USAGE_FILTER_FIELDS) == []


def test_blank_filter_is_not_no_filter():
    with pytest.raises(FilterSyntaxError, match="expected an operator"):
        parse_filter("   ", USAGE_FILTER_FIELDS)


def test_unquoted_values_may_hold_colons_and_spaces():
    terms = parse_filter("gt(used_on,2024-08-15T10:00:00.5+02:00):eq(code,Ron Swanson)", USAGE_FILTER_FIELDS)
    assert [t.value for t in terms] == ["2024-08-15T10:00:00.5+02:00", "Ron Swanson"]


def test_quoted_values_may_hold_anything():
    (term,) = parse_filter(r'eq(a,"x, (y) \"z\" \\ :")', ANYTHING)
    assert term.value == 'x, (y) "z" \\ :'


@pytest.mark.parametrize(
    "text",
    [
        "eq(a,x)",
        'eq(a,"x,y")',
        'eq(a,"(")',
        r'eq(a,"\\")',
        r'eq(a,"\"")',
        "like(a,*@example.com):eq(c,1):le(b,2)",
        "eq(a, leading space)",
        'eq(a,"back\\slash")',
    ],
)
def test_format_then_parse_gives_the_same_terms(text):
    terms = parse_filter(text, ANYTHING)
    assert parse_filter(format_filter(terms), ANYTHING) == terms


def test_format_quotes_only_what_needs_it():
    terms = [FilterTerm("eq", "a", "plain value"), FilterTerm("eq", "c", 'a,"b"')]
    assert format_filter(terms) == 'eq(a,plain value):eq(c,"a,\\"b\\"")'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eq(foo,1)", 'unknown field "foo" in "eq(foo,1)"'),
        ("eq(a,1", 'expected ")" but found the end in "eq(a,1"'),
        ("eq(a,1))", 'expected ":" between terms'),
        ("eq(a,1)::eq(c,2)", "expected an operator"),
        ("eq(a,x(y))", 'unexpected "(" in a value'),
        ('eq(a,"x)', "unterminated quoted value"),
        ('eq(a,"x"y)', 'expected ")" but found "y"'),
        ("eq(a,)", "empty value"),
        ('eq(a,"")', "empty value"),
        ("eq a,1)", 'expected "("'),
        ("eq(,1)", "expected a field name"),
        ("eq(a 1)", 'expected ","'),
        ("gt(a,1)", 'operator "gt" not supported on "a"'),
        ("eq(a,x\x00)", "control characters"),
        ("(a,1)", "expected an operator"),
        ("contains(a,1)", 'unknown operator "contains"'),
    ],
)
def test_what_does_not_parse_is_named(text, message):
    with pytest.raises(FilterSyntaxError) as error:
        parse_filter(text, ANYTHING)
    assert message in str(error.value)


def test_at_most_ten_terms():
    allowed = {f"f{i}": ["eq"] for i in range(MAX_TERMS + 1)}
    ten = ":".join(f"eq(f{i},x)" for i in range(MAX_TERMS))
    assert len(parse_filter(ten, allowed)) == MAX_TERMS
    with pytest.raises(FilterSyntaxError, match="too many terms"):
        parse_filter(ten + f":eq(f{MAX_TERMS},x)", allowed)


def test_very_long_filters_are_refused():
    with pytest.raises(FilterSyntaxError, match="longer than"):
        parse_filter("eq(a," + "x" * 5000 + ")", ANYTHING)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "42"),
        ("used_on", "2024-13-01"),
        ("used_on", "9999-12-31"),
        ("used_on", "0001-01-01T00:00:00+01:00"),
        ("used_on", "15/08/2024"),
        ("used_on", "2024-08-15T25:00"),
        ("used_on", "２０２４-０８-１５"),
    ],
)
def test_values_are_checked_by_kind(field, value):
    with pytest.raises(FilterSyntaxError, match="expects"):
        parse_filter(f"eq({field},{value})", USAGE_FILTER_FIELDS)


def test_choice_and_boolean_values():
    assert parse_filter("eq(status,cancelled):eq(anonymized,false)", ORDER_FILTER_FIELDS)
    with pytest.raises(FilterSyntaxError, match="one of incomplete, complete, processing, cancelled"):
        parse_filter("eq(status,Cancelled)", ORDER_FILTER_FIELDS)
    with pytest.raises(FilterSyntaxError, match="true or false"):
        parse_filter("eq(anonymized,1)", ORDER_FILTER_FIELDS)


def test_plain_op_lists_and_filter_fields_are_both_accepted():
    assert parse_filter("eq(x,1)", {"x": ["eq"]}) == parse_filter("eq(x,1)", {"x": FilterField.text("eq")})


def test_a_field_and_operator_given_twice_go_to_separate_layers():
    terms = parse_filter("gt(b,1):eq(a,x):gt(b,2):gt(b,3):eq(c,y)", ANYTHING)
    assert filterset_layers(terms) == [{"b_gt": "1", "a": "x", "c": "y"}, {"b_gt": "2"}, {"b_gt": "3"}]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "eq(code,cart1off)",
        'eq(code,"a,b")',
        "eq(id,8dac76b3-9282-4730-b1dd-bdd2a95610cb):gt(used_on,2023-07-11):le(used_on,2024-02-28T10:00:00Z)",
        ":".join(["eq(code,x)"] * MAX_TERMS),
    ],
)
def test_schema_pattern_accepts_what_parses(text):
    assert re.fullmatch(filter_pattern(USAGE_FILTER_FIELDS), text)
    parse_filter(text, USAGE_FILTER_FIELDS)


@pytest.mark.parametrize(
    "text",
    ["eq(foo,1)", "eq(code,)", "like(code,a)", "eq(id,42)", ":".join(["eq(code,x)"] * (MAX_TERMS + 1)), " "],
)
def test_schema_pattern_refuses_what_does_not_parse(text):
    assert not re.fullmatch(filter_pattern(USAGE_FILTER_FIELDS), text)
    with pytest.raises(FilterSyntaxError):
        parse_filter(text, USAGE_FILTER_FIELDS)


def test_terms_become_filterset_data():
    terms = parse_filter("eq(code,a):ge(used_on,2024-01-01):le(used_on,2024-02-01)", USAGE_FILTER_FIELDS)
    assert filterset_data(terms) == {"code": "a", "used_on_ge": "2024-01-01", "used_on_le": "2024-02-01"}
    assert filterset_data(
        parse_filter("eq(id,8dac76b3-9282-4730-b1dd-bdd2a95610cb)", USAGE_FILTER_FIELDS)
    ) == {"id": "8dac76b3-9282-4730-b1dd-bdd2a95610cb"}
    assert filterset_data(parse_filter("like(email,*@x.org)", ORDER_FILTER_FIELDS)) == {
        "email_like": "*@x.org"
    }


def test_every_filter_the_grammar_allows_exists_in_its_filterset():
    for allowed, filterset in (
        (USAGE_FILTER_FIELDS, CodeUsageFilterSet),
        (ORDER_FILTER_FIELDS, OrderFilterSet),
    ):
        for name, spec in allowed.items():
            for op in spec.ops:
                (key,) = filterset_data([FilterTerm(op, name, "x")])
                assert key in filterset.base_filters, (name, op)


# --- Dates ----------------------------------------------------------------------------------------


def test_dates_and_datetimes():
    assert parse_date_or_datetime("2024-07-11") == date(2024, 7, 11)
    assert parse_date_or_datetime("2024-07-11T10:00:00Z") == datetime(2024, 7, 11, 10, tzinfo=UTC)
    assert parse_date_or_datetime("2024-07-11T12:00:00+02:00") == datetime(2024, 7, 11, 10, tzinfo=UTC)
    assert parse_date_or_datetime("2024-07-11T10:00") == datetime(2024, 7, 11, 10, tzinfo=UTC)
    # "+02:00" sent unencoded in a URL arrives as " 02:00".
    assert parse_date_or_datetime("2024-07-11T12:00:00 02:00") == datetime(2024, 7, 11, 10, tzinfo=UTC)


def test_a_bare_date_is_the_whole_utc_day():
    start, end = datetime(2024, 7, 11, tzinfo=UTC), datetime(2024, 7, 12, tzinfo=UTC)
    day = date(2024, 7, 11)
    assert datetime_lookups("gt", day) == {"gte": end}
    assert datetime_lookups("ge", day) == {"gte": start}
    assert datetime_lookups("lt", day) == {"lt": start}
    assert datetime_lookups("le", day) == {"lt": end}
    assert datetime_lookups("eq", day) == {"gte": start, "lt": end}
    assert datetime_lookups("le", start) == {"lte": start}


# --- like -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "lookup"),
    [
        ("ron@x.org", {"f__iexact": "ron@x.org"}),
        ("ron*", {"f__istartswith": "ron"}),
        ("*@x.org", {"f__iendswith": "@x.org"}),
        ("*swan*", {"f__icontains": "swan"}),
        ("r*n", {"f__iregex": "^r.*n$"}),
        ("a.b*c+d", {"f__iregex": r"^a\.b.*c\+d$"}),
        ("*", {}),
    ],
)
def test_like_patterns(pattern, lookup):
    assert like_lookup("f", pattern) == lookup


# --- The FilterSets from a plain GET form (admin, privacy pages) ----------------------------------


def test_usage_filterset_takes_form_data_with_the_same_day_rule(make_promotion, make_usage):
    promotion = make_promotion(codes=("Cart1Off",))
    inside = make_usage(
        promotion=promotion, code="Cart1Off", used_on=datetime(2024, 7, 11, 23, 59, tzinfo=UTC)
    )
    make_usage(promotion=promotion, code="Cart1Off", used_on=datetime(2024, 7, 12, tzinfo=UTC))

    filterset = CodeUsageFilterSet(
        {"code": "CART1OFF", "used_on_le": "2024-07-11", "used_on_ge": ""},
        queryset=inside.__class__.objects.all(),
    )

    assert filterset.is_valid()
    assert list(filterset.qs) == [inside]


def test_usage_filterset_form_reports_a_bad_date():
    filterset = CodeUsageFilterSet({"used_on_gt": "tomorrow"})
    assert not filterset.is_valid()
    assert "used_on_gt" in filterset.errors


def test_order_filterset_email_and_like(make_order):
    ron = make_order(customer_email="Ron@Swanson.com", customer_name="Ron Swanson")
    make_order(customer_email="leslie@pawnee.gov")
    qs = ron.__class__.objects.all()
    assert list(OrderFilterSet({"email": "ron@swanson.COM"}, queryset=qs).qs) == [ron]
    assert list(OrderFilterSet({"email_like": "*@SWANSON.com"}, queryset=qs).qs) == [ron]
    assert list(OrderFilterSet({"name_like": "ron*"}, queryset=qs).qs) == [ron]
    assert OrderFilterSet({}, queryset=qs).qs.count() == 2
