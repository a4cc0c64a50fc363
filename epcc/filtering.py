"""EPCC's filter grammar, parsed in one place, and the date rule every FilterSet shares.

The grammar (EPCC's "Filtering" page)::

    filter = term *(":" term)            ; ":" is AND, at most MAX_TERMS terms
    term   = op "(" field "," value ")"
    op     = "eq" / "gt" / "ge" / "lt" / "le" / "like"
    value  = 1*(any character but ( ) , ")                   ; unquoted
           / DQUOTE *(any character; \\" and \\\\ escaped) DQUOTE     ; quoted

An unquoted value runs up to the closing parenthesis and may hold ":" (ISO
datetimes do) and spaces, but not "(", ")", "," or '"'; anything else must be
quoted. Values are never empty and hold no control characters. The same
field and operator may come twice (both apply: terms are ANDed).

Public API (other modules and tests rely on these names):

- ``parse_filter(text: str | None, allowed: Mapping[str, FilterField | Iterable[str]])
  -> list[FilterTerm]``: the terms of `text`, in order. `allowed` maps each field a
  resource accepts to its FilterField (operators and the kind of value), or simply
  to its operators (then any non-empty text value is accepted). An empty or missing
  text is no terms. Raises ``FilterSyntaxError`` (a ValueError) whose message names
  the part that did not parse, e.g. ``unknown field "foo" in "eq(foo,1)"``.
- ``filter_pattern(allowed) -> str``: a regular expression of the filters `allowed`
  accepts (for the OpenAPI schema; dates in it stop at the 28th, so it is narrower).
- ``format_filter(terms: Iterable[FilterTerm]) -> str``: the text of these terms,
  quoting values where needed, so that
  ``parse_filter(format_filter(parse_filter(s, a)), a) == parse_filter(s, a)``.
- ``filterset_data(terms) -> dict[str, str]``: the data a FilterSet takes for these
  terms: ``eq(f,v)`` becomes ``{"f": v}``, ``op(f,v)`` becomes ``{"f_op": v}``. Every
  FilterSet names its filters that way, so the API does parse -> FilterSet and the
  admin and the pages fill the same FilterSet from a plain GET form.
  ``filterset_layers(terms) -> list[dict]``: the same, split so that no dict repeats a
  key (a filter naming one field and operator twice is applied layer by layer).
- ``DateOrDateTimeFilter``: a django-filter filter taking ``YYYY-MM-DD`` or an ISO
  8601 datetime; a bare date is the whole UTC day (``gt`` after its end, ``ge`` from
  its start, ``lt`` before its start, ``le`` to its end, ``eq`` the whole day).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms

OPERATORS = ("eq", "gt", "ge", "lt", "le", "like")
MAX_TERMS = 10
MAX_FILTER_LENGTH = 2000

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Characters an unquoted value may not hold; format_filter quotes values that have them.
_RESERVED = set('(),"')
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
_SPACED_OFFSET = re.compile(r"(T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?) ([0-9]{2}:?[0-9]{2})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


# Regular expressions of values, for the OpenAPI schema's `pattern` of `filter`.
VALUE_PATTERN = r'(?:[^(),"\x00-\x1f\x7f]+|"(?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])+")'
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
DATETIME_PATTERN = (
    "(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{1,6})?)?(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])?)?"
)


class FilterSyntaxError(ValueError):
    """A filter that does not parse; the message says which part and why."""


@dataclass(frozen=True)
class FilterTerm:
    op: str
    field: str
    value: str

    def __str__(self) -> str:
        return format_filter([self])


def parse_date_or_datetime(text: str) -> date | datetime:
    """A `date` for YYYY-MM-DD, else an aware `datetime` (naive ones are UTC).

    Raises ValueError for anything else.
    """
    text = text.strip()
    # An unencoded "+" in a query string arrives as a space: "...T10:00:00 02:00".
    text = _SPACED_OFFSET.sub(r"\1+\2", text)
    if _DATE.fullmatch(text):
        day = date.fromisoformat(text)
        if day == date.max:  # its end would not be representable
            raise ValueError("date out of range")
        return day
    if _DATETIME.fullmatch(text):
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            # Databases store UTC; an offset that pushes past year 1..9999 cannot be stored.
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("datetime out of range") from None
    raise ValueError("not a date or datetime")


def _check_uuid(text: str) -> None:
    if not _UUID.fullmatch(text):
        raise ValueError("not a UUID")


def _check_date(text: str) -> None:
    parse_date_or_datetime(text)


def _check_bool(text: str) -> None:
    if text not in ("true", "false"):
        raise ValueError("not true or false")


@dataclass(frozen=True)
class FilterField:
    """What one field of a resource accepts: operators, and a check of the value."""

    ops: frozenset[str]
    check: Callable[[str], None] | None = None
    expects: str = "a value"
    # The values it accepts as a regular expression, for the OpenAPI schema
    # (the check is the authority; the pattern may be narrower, never wider).
    pattern: str = VALUE_PATTERN

    @classmethod
    def text(cls, *ops: str) -> "FilterField":
        return cls(frozenset(ops))

    @classmethod
    def uuid(cls, *ops: str) -> "FilterField":
        return cls(frozenset(ops), _check_uuid, "a UUID", UUID_PATTERN)

    @classmethod
    def datetime(cls, *ops: str) -> "FilterField":
        return cls(
            frozenset(ops), _check_date, "a date (YYYY-MM-DD) or an ISO 8601 datetime", DATETIME_PATTERN
        )

    @classmethod
    def boolean(cls, *ops: str) -> "FilterField":
        return cls(frozenset(ops), _check_bool, "true or false", "(?:true|false)")

    @classmethod
    def choice(cls, choices: Iterable[str], *ops: str) -> "FilterField":
        choices = tuple(choices)

        def check(text: str) -> None:
            if text not in choices:
                raise ValueError("not a known value")

        pattern = "(?:" + "|".join(re.escape(choice) for choice in choices) + ")"
        return cls(frozenset(ops), check, "one of " + ", ".join(choices), pattern)


def _as_field(spec) -> FilterField:
    return spec if isinstance(spec, FilterField) else FilterField(frozenset(spec))


class _Reader:
    """A cursor over the filter text that reports errors with the term being read."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str, start: int, hint: str = "") -> FilterSyntaxError:
        end = self.text.find(")", start)
        part = self.text[start : end + 1 if end != -1 else len(self.text)]
        where = f'in "{part[:200]}"' if part else "at the end of the filter"
        return FilterSyntaxError(f"{message} {where}{'; ' + hint if hint else ''}")

    def name(self) -> str:
        match = _NAME.match(self.text, self.pos)
        if not match:
            return ""
        self.pos = match.end()
        return match.group()

    def expect(self, char: str, what: str, start: int) -> None:
        if self.text[self.pos : self.pos + 1] != char:
            found = self.text[self.pos : self.pos + 1]
            raise self.error(f"expected {what} but found {_shown(found)}", start)
        self.pos += 1

    def value(self, start: int) -> str:
        if self.text[self.pos : self.pos + 1] == '"':
            return self._quoted(start)
        begin = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _RESERVED:
            self.pos += 1
        value = self.text[begin : self.pos]
        if self.pos < len(self.text) and self.text[self.pos] in '(,"':
            raise self.error(
                f'unexpected {_shown(self.text[self.pos])} in a value (quote values holding ( ) , ")',
                start,
            )
        return value

    def _quoted(self, start: int) -> str:
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\':
                chars.append(self.text[self.pos + 1])
                self.pos += 2
            elif char == '"':
                self.pos += 1
                return "".join(chars)
            else:
                chars.append(char)
                self.pos += 1
        raise self.error("unterminated quoted value", start)


def _shown(found: str) -> str:
    return f'"{found}"' if found else "the end"


def parse_filter(text: str | None, allowed: Mapping[str, FilterField | Iterable[str]]) -> list[FilterTerm]:
    """The terms of an EPCC filter, checked against what the resource allows.

    See the module docstring for the grammar; raises FilterSyntaxError.
    """
    if not text:
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterSyntaxError(f"filter is longer than {MAX_FILTER_LENGTH} characters")
    fields = {name: _as_field(spec) for name, spec in allowed.items()}
    reader = _Reader(text)
    terms: list[FilterTerm] = []
    while True:
        start = reader.pos
        if len(terms) == MAX_TERMS:
            raise FilterSyntaxError(f'too many terms: at most {MAX_TERMS} may be joined with ":"')
        op = reader.name()
        if not op:
            raise reader.error("expected an operator (" + " ".join(OPERATORS) + ")", start)
        if op not in OPERATORS:
            raise reader.error(f'unknown operator "{op}"', start)
        reader.expect("(", '"("', start)
        name = reader.name()
        if not name:
            raise reader.error("expected a field name", start)
        reader.expect(",", '","', start)
        value = reader.value(start)
        reader.expect(")", '")"', start)
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise reader.error(f'unknown field "{name}"', start, f"known fields: {known}")
        spec = fields[name]
        if op not in spec.ops:
            ops = ", ".join(o for o in OPERATORS if o in spec.ops)
            raise reader.error(f'operator "{op}" not supported on "{name}"', start, f"supported: {ops}")
        if not value:
            raise reader.error("empty value", start)
        if _CONTROL.search(value):
            raise reader.error("control characters in a value", start)
        if spec.check is not None:
            try:
                spec.check(value)
            except ValueError:
                raise reader.error(f'"{name}" expects {spec.expects}', start) from None
        terms.append(FilterTerm(op=op, field=name, value=value))
        if reader.pos == len(text):
            return terms
        reader.expect(":", '":" between terms', reader.pos)


def _format_value(value: str) -> str:
    if value and not (set(value) & _RESERVED) and "\\" not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_filter(terms: Iterable[FilterTerm]) -> str:
    """The EPCC filter text of these terms (quoting values that need it)."""
    return ":".join(f"{term.op}({term.field},{_format_value(term.value)})" for term in terms)


def filterset_key(term: FilterTerm) -> str:
    return term.field if term.op == "eq" else f"{term.field}_{term.op}"


def filterset_data(terms: Iterable[FilterTerm]) -> dict[str, str]:
    """FilterSet data for parsed terms: eq(f,v) -> {"f": v}, op(f,v) -> {"f_op": v}.

    A key given twice keeps its last value; use filterset_layers to keep both.
    """
    return {filterset_key(term): term.value for term in terms}


def filterset_layers(terms: Iterable[FilterTerm]) -> list[dict[str, str]]:
    """FilterSet data dicts, none repeating a key; applying each in turn ANDs every term."""
    layers: list[dict[str, str]] = []
    for term in terms:
        key = filterset_key(term)
        layer = next((layer for layer in layers if key not in layer), None)
        if layer is None:
            layer = {}
            layers.append(layer)
        layer[key] = term.value
    return layers


def filter_pattern(allowed: Mapping[str, FilterField | Iterable[str]]) -> str:
    """A regular expression of the filter texts `allowed` accepts (for OpenAPI's `pattern`)."""
    alternatives = []
    for name, spec in allowed.items():
        spec = _as_field(spec)
        ops = "|".join(op for op in OPERATORS if op in spec.ops)
        alternatives.append(f"(?:{ops})\\({re.escape(name)},{spec.pattern}\\)")
    term = "(?:" + "|".join(alternatives) + ")"
    return f"^(?:{term}(?::{term}){{0,{MAX_TERMS - 1}}})?$"


# --- The date rule, shared by every FilterSet ----------------------------------


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of a UTC day and the first instant after it."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def datetime_lookups(op: str, value: date | datetime) -> dict[str, datetime]:
    """ORM lookups (without the field name) for `op` against a date or a datetime.

    A bare date stands for its whole UTC day.
    """
    if isinstance(value, datetime):
        return {{"eq": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}[op]: value}
    start, end = day_bounds(value)
    return {
        "eq": {"gte": start, "lt": end},
        "gt": {"gte": end},
        "ge": {"gte": start},
        "lt": {"lt": start},
        "le": {"lt": end},
    }[op]


class DateOrDateTimeField(forms.CharField):
    """A form field for YYYY-MM-DD or an ISO 8601 datetime (a date stays a date)."""

    default_error_messages = {"invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 datetime."}

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_date_or_datetime(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DateOrDateTimeFilter(django_filters.Filter):
    """`op` (eq gt ge lt le) against a date or datetime; a date is its whole UTC day."""

    field_class = DateOrDateTimeField

    def __init__(self, *args, op: str = "eq", **kwargs):
        if op not in ("eq", "gt", "ge", "lt", "le"):
            raise ValueError(f"unsupported operator {op!r}")
        self.op = op
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        lookups = datetime_lookups(self.op, value)
        return qs.filter(**{f"{self.field_name}__{lookup}": bound for lookup, bound in lookups.items()})


def like_lookup(field_name: str, pattern: str) -> dict[str, str]:
    """EPCC's `like`: `*` is any run of characters; matching ignores case.

    The common shapes become indexable lookups (iexact, istartswith, ...);
    `*` in the middle becomes a regular expression.
    """
    inner = pattern.strip("*")
    if "*" not in inner:
        starts, ends = pattern.startswith("*"), pattern.endswith("*")
        if not inner:
            return {}
        lookup = {
            (False, False): "iexact",
            (False, True): "istartswith",
            (True, False): "iendswith",
            (True, True): "icontains",
        }[(starts, ends)]
        return {f"{field_name}__{lookup}": inner}
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return {f"{field_name}__iregex": f"^{regex}$"}


class LikeFilter(django_filters.CharFilter):
    """EPCC's `like` with `*` wildcards, case-insensitive."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**like_lookup(self.field_name, value))
