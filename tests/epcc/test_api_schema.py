"""The OpenAPI schema (/api/schema/) and the offline docs page (/api/docs/)."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

PATHS = {
    "/oauth/access_token": {"post"},
    "/v2/orders": {"get"},
    "/v2/orders/{id}": {"get"},
    "/v2/orders/anonymize": {"post"},
    "/v2/rule-promotions/usages/anonymize": {"post"},
    "/v2/promotions/usages/anonymize": {"post"},
    "/v2/rule-promotions": {"get"},
    "/v2/rule-promotions/{promotion_id}/codes": {"get"},
    "/v2/rule-promotions/{promotion_id}/usages": {"get"},
    "/v2/rule-promotions/{promotion_id}/codes/{code}/usages": {"get"},
    "/v2/personal-data/erasure-requests": {"get", "post"},
    "/v2/personal-data/erasure-requests/{id}": {"get"},
    "/v2/personal-data/logs": {"get"},
    "/v2/personal-data/logs/{id}": {"get"},
    "/v2/personal-data/related-data-entries": {"get"},
}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_schema_describes_every_endpoint(schema):
    assert {path: set(ops) for path, ops in schema["paths"].items()} == PATHS


def test_every_operation_declares_the_error_envelope(schema):
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            success = "201" if (path, method) == ("/v2/personal-data/erasure-requests", "post") else "200"
            assert {success, "401", "405", "429"} <= set(responses), (method, path)
            assert path == "/oauth/access_token" or "403" in responses, (method, path)
            # A GET by id reads nothing but its path: no 400.
            assert path.endswith("/{id}") or "400" in responses, (method, path)
            for status, response in responses.items():
                if status != success:
                    assert response["content"]["application/json"]["schema"] == envelope, (path, status)
    assert "422" in schema["paths"]["/v2/orders/anonymize"]["post"]["responses"]


def test_lists_declare_filter_paging_and_sort(schema):
    for path in ("/v2/orders", "/v2/rule-promotions/{promotion_id}/usages"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"filter", "page[limit]", "page[offset]", "sort"} <= names
    sort = next(
        p
        for p in schema["paths"]["/v2/rule-promotions/{promotion_id}/usages"]["get"]["parameters"]
        if p["name"] == "sort"
    )
    assert sort["schema"]["enum"] == ["used_on", "-used_on"]


def test_bodies_and_bearer_auth_are_declared(schema):
    body = schema["paths"]["/v2/orders/anonymize"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/OrderAnonymizeRequest"}
    assert schema["components"]["securitySchemes"]["Bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/v2/orders"]["get"]["security"] == [{"Bearer": []}]
    token_body = schema["paths"]["/oauth/access_token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token_body


def test_docs_page_works_offline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == [], "the docs page must not load anything from a CDN"
    for asset in re.findall(r"""(?:src|href)=["']/static/([^"']+)""", html):
        assert finders.find(asset), asset
