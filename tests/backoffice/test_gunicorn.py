"""gunicorn with the project's gunicorn.conf.py: its access log holds no query string and no email.

Starts gunicorn as production would (`gunicorn -c gunicorn.conf.py`), on a free
port and the test database, sends it requests carrying emails in queries, paths
and Referer headers, and reads its access log.
"""

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.plugins.job_workers import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
EMAIL = "quentin.zephyrine@pii.example"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, **headers) -> int:
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=20) as answer:  # noqa: S310 - our server
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """A running gunicorn (2 workers) with gunicorn.conf.py; yields (base URL, access log path)."""
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    env = os.environ | {
        "DATABASE_URL": worker_database_url(),
        "GUNICORN_ACCESS_LOG": str(access_log),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
    }
    process = subprocess.Popen(
        # Port 0: the system picks a free one; gunicorn says which in its error log.
        [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=error_log.open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", error_log.read_text())):
            assert process.poll() is None, error_log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield found.group(1), access_log
    finally:
        process.terminate()
        process.wait(30)


def test_the_access_log_holds_no_query_string_and_no_email(gunicorn):
    base, access_log = gunicorn
    statuses = [
        fetch(f"{base}/v2/orders?filter=eq(email,{EMAIL})"),
        fetch(f"{base}/privacy/people/?q={EMAIL}"),
        fetch(f"{base}/privacy/login/?next=/privacy/people/%3Fq%3D{EMAIL.replace('@', '%40')}"),
        fetch(f"{base}/v2/orders/{EMAIL}"),
        fetch(f"{base}/privacy/people/{EMAIL.replace('@', '%40')}/"),
        fetch(f"{base}/privacy/login/", Referer=f"{base}/privacy/people/?q={EMAIL}"),
        fetch(f"{base}/privacy/login/", Referer=f"{base}/people/{EMAIL}/"),
    ]
    assert statuses == [401, 302, 200, 404, 404, 200, 200]

    deadline = time.monotonic() + 10
    while len(lines := access_log.read_text().splitlines()) < len(statuses):
        assert time.monotonic() < deadline, lines
        time.sleep(0.1)
    text = "\n".join(lines)
    assert "zephyrine" not in text.lower() and "pii.example" not in text.lower(), text
    assert "?q=" not in text and "filter=" not in text and "next=" not in text, text
    # Still a useful log: method, path, a mark where the query was, status, referer's page.
    assert '"GET /v2/orders?… HTTP/1.1" 401' in text
    assert '"GET /privacy/people/?… HTTP/1.1" 302' in text
    assert '"GET /v2/orders/[email withheld] HTTP/1.1" 404' in text
    assert f'"{base}/privacy/people/?…"' in text
    assert f'"{base}/people/[email withheld]/"' in text


def test_the_production_instructions_and_the_bench_use_the_config():
    readme = (ROOT / "README.md").read_text()
    assert "gunicorn -c gunicorn.conf.py" in readme
    assert '"gunicorn.conf.py"' in (ROOT / "bench" / "run.py").read_text()
