"""Real job workers for tests (a plugin of the root conftest): `start_worker`, `wait_for`.

A worker is `manage.py procrastinate worker` in a subprocess, on the test
database; tests using it commit their rows (transaction=True) so it sees them.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60


def worker_database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(str(db["HOST"] or "localhost"), safe="")
    port = db["PORT"] or "5432"
    return f"postgresql://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """start_worker() -> a running `procrastinate worker` subprocess on the test database."""
    started = []

    def start():
        env = os.environ | {"DATABASE_URL": worker_database_url(), "PYTHONUNBUFFERED": "1"}
        log = open(tmp_path / f"worker-{len(started)}.log", "w")  # noqa: SIM115 - closed at teardown
        process = subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
    with connection.cursor() as cursor:  # procrastinate's tables are not Django's to flush
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers,"
            " procrastinate_workers CASCADE"
        )


def wait_for(predicate, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
