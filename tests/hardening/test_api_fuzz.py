"""Fuzz the API from its own OpenAPI schema (schemathesis), in-process through the WSGI app.

Every operation of /api/schema/ gets generated requests (valid and invalid)
with a real Bearer token over seeded data. No response may be a 500, every
response must match the schema, and every error must be EPCC's envelope.
Bounded (few examples per operation) so the file runs in well under a minute.
"""

import copy
import os
import uuid

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core.services import api_key_create
from promotions.models import Promotion, PromotionCode

SCALE = int(os.environ.get("HARDENING_EXAMPLES", "1"))
# Seeded records the generated paths point at half of the time (the rest are random ids: 404s).
PROMOTION_ID = "26067b82-a50c-462c-b3ed-1ca77aa13bd1"
ORDER_ID = "0f9e6c5e-2b1f-4f4e-9d55-3c3f2d1e0a11"
CODE = "SUMMER10"


def served_schema() -> dict:
    return Client().get("/api/schema/?format=json").json()


def as_intended(raw: dict) -> dict:
    """The served schema with its known mistakes corrected (see KNOWN_SCHEMA_MISTAKES).

    Fuzzing against the corrected copy keeps every other check strict; the
    strict-xfail tests below fail once the served schema is fixed, so this
    function can then go.
    """
    raw = copy.deepcopy(raw)
    components = raw["components"]["schemas"]
    for name in ("client_id", "client_secret"):
        components["AccessTokenRequest"]["properties"][name]["minLength"] = 1
    return raw


KNOWN_SCHEMA_MISTAKES = """
1. core/oauth.py AccessTokenRequestSerializer: client_id and client_secret may be "" by the
   schema, but the endpoint answers 400. Fix: CharField(min_length=1) (the schema then says
   minLength: 1), or allow_blank=False made explicit in what drf-spectacular reads.
"""

schema = schemathesis.openapi.from_dict(as_intended(served_schema()))
schema.app = get_wsgi_application()


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half of the well-formed paths point at seeded records; malformed ones stay malformed."""
    if not path_parameters:
        return st.just(path_parameters)
    seeded = {}
    for name, value in path_parameters.items():
        if name == "promotion_id" and is_uuid(value):
            seeded[name] = st.just(PROMOTION_ID)
        elif name in ("id", "pk") and is_uuid(value):
            seeded[name] = st.just(ORDER_ID)
        elif name == "code" and isinstance(value, str) and value:
            seeded[name] = st.sampled_from([CODE, CODE.lower()])
        else:
            seeded[name] = st.just(value)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(seeded))


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def with_real_token(case, token: str) -> None:
    """A generated Authorization header becomes the real token, unless the case is about that header."""
    headers = dict(case.headers or {})
    header_info = (case.meta.components if case.meta else {}).get(ParameterLocation.HEADER)
    if "Authorization" in headers and not (header_info and header_info.mode == GenerationMode.NEGATIVE):
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers


def epcc_error_envelope(ctx, response, case):
    """Every error answer is {"errors": [{"status", "title", "detail", "meta"?}, ...]}."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert set(body) == {"errors"}, f"not EPCC's envelope: {body}"
    assert isinstance(body["errors"], list) and body["errors"], body
    for entry in body["errors"]:
        assert {"status", "title", "detail"} <= set(entry) <= {"status", "title", "detail", "meta"}, entry
        assert isinstance(entry["status"], int) and entry["title"] and entry["detail"], entry
        assert "Traceback" not in entry["detail"], entry
    return None


@pytest.fixture
def bearer(officer, make_order, make_usage):
    """A real token of a privacy officer, and data for the lists to return."""
    make_order(id=ORDER_ID, shipping="fulfilled")
    make_order(shipping="unfulfilled")
    promotion = Promotion.objects.create(id=PROMOTION_ID, name="Summer")
    PromotionCode.objects.create(promotion=promotion, code=CODE)
    for _ in range(3):
        make_usage(promotion=promotion, code=CODE)
    _, token = api_key_create(name="fuzz", user=officer)
    return token


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8 * SCALE,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_holds_to_its_schema(case, bearer):
    with_real_token(case, bearer)
    response = case.call()
    # The schema can only say `filter` is a string; the grammar is in its description, and
    # a filter that does not parse is a 400 by contract (SPEC section 3), not a schema breach.
    excluded = [positive_data_acceptance] if is_filter_rejection(response) else []
    case.validate_response(response, additional_checks=[epcc_error_envelope], excluded_checks=excluded)


def is_filter_rejection(response) -> bool:
    if response.status_code != 400:
        return False
    errors = response.json().get("errors", [])
    return bool(errors) and all(entry.get("meta", {}).get("source") == "filter" for entry in errors)


# --- The served schema's known mistakes (strict: these fail once the schema is fixed) ---------


@pytest.mark.xfail(strict=True, reason="KNOWN_SCHEMA_MISTAKES 1: empty client credentials allowed")
def test_served_schema_says_client_credentials_are_not_empty():
    request = served_schema()["components"]["schemas"]["AccessTokenRequest"]["properties"]
    assert request["client_id"].get("minLength", 0) >= 1
    assert request["client_secret"].get("minLength", 0) >= 1
