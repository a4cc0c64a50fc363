"""EPCC's formats for timestamps and money, shared by every serializer."""

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


def format_timestamp(value: datetime | None) -> str | None:
    """'2024-08-15T23:27:18.068Z', or without a fraction when it has none."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        base += f".{value.microsecond // 1000:03d}"
    return base + "Z"


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


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency, "formatted": format_money(amount, currency)}
