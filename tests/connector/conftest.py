"""A second instance of this project, playing the EPCC store: `store` (a StoreInstance).

One instance per test session: its own database on the test database's server
(`store_<random>`), migrated, a superuser and an API key made with the
project's own commands (`createsuperuser`, `create_api_key`: the key's two parts
are the client id and secret), served by `manage.py runserver --noreload` on a
free port. Each test gets it freshly seeded with `demo_data` (and its audit
trail emptied), and may stop and start it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
STORE_ORDERS = 150  # more than one page of 100
STORE_USAGES = 60
STORE_SEED = 7
STORE_TODAY = "2026-01-01"
SUPERUSER = "store-admin"


def server_url(database: str) -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(str(db["HOST"] or "localhost"), safe="")
    return f"postgresql://{user}{password}@{host}:{db['PORT'] or '5432'}/{database}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StoreInstance:
    """The store: its database URL, its base URL and client credentials; stop() and start() it."""

    def __init__(self, tmp: Path):
        self.database = f"store_{uuid.uuid4().hex[:12]}"
        self.database_url = server_url(self.database)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "store.log"
        self.process: subprocess.Popen | None = None
        self.client_id = self.client_secret = ""
        self.env = {
            name: value for name, value in os.environ.items() if not name.startswith(("EPCC_", "DJANGO_TEST"))
        } | {
            "DATABASE_URL": self.database_url,
            "DJANGO_DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SUPERUSER_PASSWORD": "store-admin-password-1",
        }

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def create(self) -> None:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self.manage("migrate", "--noinput")
        self.manage("createsuperuser", "--noinput", "--username", SUPERUSER, "--email", "store@example.com")
        token = self.manage("create_api_key", "connector", "--user", SUPERUSER).strip().splitlines()[-1]
        self.client_id, self.client_secret = token.split(".", 1)

    def drop(self) -> None:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def seed(self) -> None:
        self.manage(
            "demo_data",
            "--replace",
            "--orders",
            str(STORE_ORDERS),
            "--usages",
            str(STORE_USAGES),
            "--seed",
            str(STORE_SEED),
            "--today",
            STORE_TODAY,
        )
        self.sql("TRUNCATE core_auditrecord, core_upstreampush")

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._log = log
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                if httpx.get(f"{self.base_url}/v2/orders", timeout=2).status_code == 401:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("the store did not start: " + self.log_path.read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._log.close()
        self.process = None

    def sql(self, statement: str, params=None) -> list:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            cursor = db.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def configure(self, settings, monkeypatch=None, *, secret: str | None = None) -> None:
        """Name this store in the settings of this process (and, with monkeypatch, of workers it starts)."""
        values = {
            "EPCC_API_BASE_URL": self.base_url,
            "EPCC_CLIENT_ID": self.client_id,
            "EPCC_CLIENT_SECRET": secret or self.client_secret,
        }
        for name, value in values.items():
            setattr(settings, name, value)
            if monkeypatch is not None:
                monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def store_instance(django_db_setup, tmp_path_factory):
    store = StoreInstance(tmp_path_factory.mktemp("store"))
    store.create()
    try:
        store.start()
        yield store
    finally:
        store.stop()
        store.drop()


@pytest.fixture
def store_up(store_instance, settings):
    """The store running (as the last test left its data), configured in this process's settings."""
    if store_instance.process is None:
        store_instance.start()
    store_instance.configure(settings)
    yield store_instance
    if store_instance.process is None:
        store_instance.start()


@pytest.fixture
def store(store_up):
    """The store, freshly seeded and running, configured in this process's settings."""
    store_up.seed()
    return store_up
