"""EPCC's formats in Python: timestamps read by the import, money shown by the admin.

The documents themselves are written by PostgreSQL (epcc.documents.formats, with the same CURRENCIES).
"""

import json
from datetime import UTC, datetime

# Minor-unit exponent and symbol of the currencies the demo data uses;
# others print as "1,234.56 CHF".
CURRENCIES = {
    "GBP": ("£", 2),
    "USD": ("$", 2),
    "EUR": ("€", 2),
    "CAD": ("CA$", 2),
    "AUD": ("A$", 2),
    "JPY": ("¥", 0),
}


def parse_timestamp(text: str) -> datetime:
    """EPCC's ISO 8601 with 'Z'; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def format_money(amount: int, currency: str) -> str:
    symbol, exponent = CURRENCIES.get(currency, (None, 2))
    sign = "-" if amount < 0 else ""
    units = abs(amount)
    if exponent:
        number = f"{units // 10**exponent:,}.{units % 10**exponent:0{exponent}d}"
    else:
        number = f"{units:,}"
    if symbol is None:
        return f"{sign}{number} {currency}"
    return f"{sign}{symbol}{number}"


def format_json_value(value) -> str:
    """A JSON value as people read it: a string without its quotes, a number or true/false as
    written, a list or object as compact JSON, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
