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


def test_an_email_in_a_path_is_withheld_from_request_lines_and_not_found_messages():
    for args, fmt in (
        (("GET /privacy/people/ada.lovelace@example.com/ HTTP/1.1", "404", "179"), '"%s" %s %s'),
        (("/v2/orders/Ada%40Example.COM",), "Not Found: %s"),
    ):
        record = logging.LogRecord("django.server", logging.WARNING, __file__, 1, fmt, args, None)
        StripQueryStrings().filter(record)
        message = record.getMessage()
        assert "ada" not in message.lower() and "example" not in message.lower(), message
        assert "[email withheld]" in message


def test_a_logged_request_object_shows_its_path_without_an_email():
    from django.test import RequestFactory

    request = RequestFactory().get("/privacy/people/ada@example.com/", {"q": "x"})
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found", (), None)
    record.request = request
    StripQueryStrings().filter(record)
    assert "ada@example.com" not in str(record.request) and "example.com" not in record.request.path


def test_ordinary_paths_and_messages_are_left_alone():
    for text in (
        "Not Found: /v2/rule-promotions/26067b82-a50c-462c-b3ed-1ca77aa13bd1/codes/SUMMER10/usages",
        "Anonymized 3 orders (batch 5b1c...)",
    ):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (text,), None)
        StripQueryStrings().filter(record)
        assert record.getMessage() == text


def test_control_characters_in_a_path_are_escaped():
    from core.logging import safe_path

    assert safe_path("/a\r\nFAKE\tx\x1b[31m\x7f\\") == "/a\\r\\nFAKE\\tx\\x1b[31m\\x7f\\\\"
    assert safe_path("/v2/orders/ada@example.com\u2028x") == "/v2/orders/[email withheld]\\u2028x"
    assert safe_path("/v2/ordinary/path-ü") == "/v2/ordinary/path-ü"
