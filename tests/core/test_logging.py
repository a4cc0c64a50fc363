"""Request logs leave out query strings: filters can carry an email."""

import logging

from core.logging import StripQueryStrings


def test_query_strings_are_cut_from_request_lines():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /v2/orders?filter=eq(email,ada@example.com) HTTP/1.1", "200", "512"),
        None,
    )
    assert StripQueryStrings().filter(record)
    message = record.getMessage()
    assert "ada@example.com" not in message
    assert message.startswith('"GET /v2/orders?… HTTP/1.1" 200')


def test_messages_without_a_query_are_left_alone():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/v2/x",), None
    )
    StripQueryStrings().filter(record)
    assert record.getMessage() == "Not Found: /v2/x"
