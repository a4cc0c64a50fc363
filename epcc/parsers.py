"""The API's JSON parser: DRF's, with a cap on nesting depth.

Python's JSON decoder recurses once per level of nesting, so a body of
50,000 `{"a":` would raise RecursionError (a 500); here it is a 400 envelope
before the decoder starts. (A NUL in a body's string never reaches PostgreSQL,
which refuses NUL in text: the bodies' values are UUIDs, a key id and a
hashed secret, each refused or unknown with a NUL.)
"""

import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

# EPCC's bodies nest three levels ({"data": {"order_ids": [...]}}); anything near this is not one.
MAX_DEPTH = 20
# A JSON string (escapes included), written so the regex engine runs over it without backtracking.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str, stop_above: int = MAX_DEPTH) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped), counting no
    further than `stop_above` + 1. Malformed text gets a number too; the decoder refuses it."""
    depth = deepest = 0
    for bracket in _NOT_A_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser, refusing bodies deeper than MAX_DEPTH levels.

    (A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused by Django before it gets here.)
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from None
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels.")
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:  # a deep nesting the count missed: never a 500
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels.") from None
