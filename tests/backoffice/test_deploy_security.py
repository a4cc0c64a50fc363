"""Production settings: refuse to start without secrets, send security headers, no CORS.

Settings are read once at start-up, so each check runs Django in a child
process with production environment variables (as a server would start).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "privacy.example.com"

# Requests a production process answers without a database: the login pages and
# an API call without a token (a 401 before any query).
PROBE = """
import json
from django.test import Client
client = Client(SERVER_NAME="{host}")
answers = {{}}
for name, path, extra in [
    ("api", "/v2/orders", {{"HTTP_ORIGIN": "https://evil.example.net"}}),
    ("preflight", "/v2/orders", {{"HTTP_ORIGIN": "https://evil.example.net",
                                  "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}}),
    ("login", "/privacy/login/", {{}}),
    ("admin", "/admin/login/", {{}}),
]:
    method = client.options if name == "preflight" else client.get
    response = method(path, secure=True, **extra)
    answers[name] = {{
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {{k: {{"secure": bool(m["secure"]), "httponly": bool(m["httponly"]),
                          "samesite": m["samesite"]}} for k, m in response.cookies.items()}},
    }}
answers["plain_http"] = {{"status": client.get("/privacy/login/").status_code,
                          "location": client.get("/privacy/login/").headers.get("Location")}}
print("PROBE" + json.dumps(answers))
"""


def run_django(*args, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "API_"))} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def production_env(**overrides) -> dict:
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": HOST,
    } | overrides


@pytest.fixture(scope="module")
def production_answers():
    result = run_django("shell", "-c", PROBE.format(host=HOST), **production_env())
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line.removeprefix("PROBE"))


@pytest.mark.parametrize("secret", ["", "   "], ids=["empty", "blank"])
def test_production_refuses_to_start_with_an_empty_secret_key(secret):
    result = run_django("check", **production_env(DJANGO_SECRET_KEY=secret))
    # An empty or blank key must never be accepted as "set".
    assert result.returncode != 0, result.stdout
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_never_falls_back_to_the_development_key():
    result = run_django(
        "shell",
        "-c",
        "from django.conf import settings; print('KEY' + settings.SECRET_KEY)",
        **production_env(DJANGO_SECRET_KEY="a-real-production-secret-" + secrets.token_hex(20)),
    )
    assert result.returncode == 0, result.stderr
    assert "django-insecure" not in result.stdout
    assert "KEY" + "a-real-production-secret-" in result.stdout


def test_production_has_no_allowed_hosts_unless_told():
    result = run_django(
        "shell",
        "-c",
        "from django.conf import settings; print('HOSTS', settings.ALLOWED_HOSTS)",
        **production_env(DJANGO_ALLOWED_HOSTS=""),
    )
    assert "HOSTS []" in result.stdout, result.stdout + result.stderr


def test_api_answers_a_cross_origin_request_without_cors_headers(production_answers):
    for name in ("api", "preflight"):
        headers = {k.lower() for k in production_answers[name]["headers"]}
        assert not {h for h in headers if h.startswith("access-control-")}, (name, headers)
    assert production_answers["api"]["status"] == 401


def test_cors_is_off_by_default_in_development_too(client):
    response = client.get("/v2/orders", HTTP_ORIGIN="https://evil.example.net")
    preflight = client.options(
        "/v2/orders", HTTP_ORIGIN="https://evil.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    for answer in (response, preflight):
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


@pytest.mark.parametrize("page", ["api", "login", "admin"])
def test_security_headers_are_sent_with_debug_off(production_answers, page):
    headers = production_answers[page]["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_cookies_are_secure_with_debug_off(production_answers):
    cookies = production_answers["login"]["cookies"] | production_answers["admin"]["cookies"]
    assert "csrftoken" in cookies
    for name, flags in cookies.items():
        assert flags["secure"], name


def test_plain_http_is_redirected_to_https_with_debug_off(production_answers):
    assert production_answers["plain_http"]["status"] == 301
    assert production_answers["plain_http"]["location"] == f"https://{HOST}/privacy/login/"
