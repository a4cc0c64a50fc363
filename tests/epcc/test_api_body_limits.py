"""Bodies the API cannot take: too deep, too large, not text, NUL characters. Each a 400 envelope."""

import pytest

from epcc.parsers import MAX_DEPTH, nesting_depth

ANONYMIZE_PATHS = ["/v2/orders/anonymize", "/v2/rule-promotions/usages/anonymize"]


def assert_400(response, words: str):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["status"] == 400 and error["title"] == "Bad Request"
    assert words in error["detail"]


@pytest.mark.parametrize("path", ANONYMIZE_PATHS)
@pytest.mark.parametrize("opening", ['{"a":', "["])
def test_a_deeply_nested_body_is_a_400_not_a_recursion_error(api_client, path, opening):
    body = opening * 50_000
    assert_400(api_client.post(path, body, content_type="application/json"), f"deeper than {MAX_DEPTH}")


@pytest.mark.parametrize("path", ANONYMIZE_PATHS)
def test_nesting_is_capped_at_max_depth(api_client, path):
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert_400(
        api_client.post(path, f'{{"data": {{"order_ids": {deep}}}}}', content_type="application/json"),
        "deeper than",
    )
    # At the cap the body is read, and refused for what it says, not for its depth.
    within = "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2)
    response = api_client.post(
        path, f'{{"data": {{"order_ids": {within}}}}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "deeper" not in response.json()["errors"][0]["detail"]


def test_the_token_endpoint_caps_nesting_too(db):
    from rest_framework.test import APIClient

    response = APIClient().post("/oauth/access_token", '{"a":' * 50_000, content_type="application/json")
    assert_400(response, "deeper than")


def test_brackets_inside_strings_do_not_count():
    assert nesting_depth('{"data": {"order_ids": ["[[[[", "{{{{\\"[[["]}}') == 3
    assert nesting_depth('"' + "[" * 100 + '"') == 0
    assert nesting_depth("[" * 1000, stop_above=5) == 6


def test_a_body_larger_than_the_upload_limit_is_a_400(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = '{"data": {"order_ids": ["' + "0" * 200 + '"]}}'
    assert_400(api_client.post(ANONYMIZE_PATHS[0], body, content_type="application/json"), "cannot be read")


def test_a_body_that_is_not_utf8_is_a_400(api_client):
    response = api_client.post(ANONYMIZE_PATHS[0], b'{"data": "\xff"}', content_type="application/json")
    assert_400(response, "not utf-8 text")


@pytest.mark.parametrize("path", ANONYMIZE_PATHS)
def test_a_nul_in_a_json_string_is_a_400(api_client, path):
    body = '{"data": {"order_ids": ["\\u0000"], "usage_ids": ["\\u0000"], "x\\u0000": 1}}'
    assert_400(api_client.post(path, body, content_type="application/json"), "Not a UUID string at [0]")
