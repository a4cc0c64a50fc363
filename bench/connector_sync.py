"""Orders synced per second: `sync_ep` against a second instance of this project on this machine.

A store database (demo data: `orders` orders, no usages) served by gunicorn on a
free port, and an empty database for the back-office that syncs from it, both on
the bench's PostgreSQL server; the client credentials come from the project's own
`createsuperuser` and `create_api_key`. The figure is the orders of one full
`sync_ep` run over its whole time (the command's start included). Run alone with
`python -m bench.connector_sync [--orders N]`; `python -m bench` runs it as part 9.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MANAGE = [sys.executable, "manage.py"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _database(url: str, name: str) -> str:
    """`url` (a server's database) naming the database `name` instead, recreated empty."""
    import psycopg

    with psycopg.connect(_named(url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return _named(url, name)


def _named(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _env(database_url: str, **extra) -> dict:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("EPCC_", "DJANGO_SETTINGS"))}
    return keep | {"DATABASE_URL": database_url, "DJANGO_LOG_LEVEL": "WARNING"} | extra


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run([*MANAGE, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def measure(server_url: str, orders: int) -> dict:
    """Seed a store, serve it, sync it into an empty database; returns the figures."""
    import httpx

    store_url = _database(server_url, "bench_connector_store")
    local_url = _database(server_url, "bench_connector_local")
    store_env = _env(
        store_url,
        DJANGO_SUPERUSER_PASSWORD="bench-store-password-1",  # noqa: S106 (a throwaway local database)
        API_THROTTLE_RATE="10000000/min",
    )
    _manage(store_env, "migrate", "--noinput")
    _manage(store_env, "demo_data", "--orders", str(orders), "--usages", "0", "--seed", "2", "--replace")
    _manage(store_env, "createsuperuser", "--noinput", "--username", "store", "--email", "store@example.com")
    token = (
        _manage(store_env, "create_api_key", "bench-connector", "--user", "store").strip().splitlines()[-1]
    )
    client_id, client_secret = token.split(".", 1)
    _manage(_env(local_url), "migrate", "--noinput")

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "backoffice.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=store_env
        | {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-" + "x" * 60,
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
        },
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://{HOST}:{port}/v2/orders", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the store's gunicorn did not start") from None
                time.sleep(0.3)
        local_env = _env(
            local_url,
            EPCC_API_BASE_URL=f"http://{HOST}:{port}",
            EPCC_CLIENT_ID=client_id,
            EPCC_CLIENT_SECRET=client_secret,
        )
        started = time.perf_counter()
        output = _manage(local_env, "sync_ep", "--no-progress")
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    if f"orders: {orders:,} created" not in output:
        raise RuntimeError(f"sync_ep did not sync every order: {output}")
    return {"orders": orders, "seconds": seconds, "per_second": orders / seconds}


def default_server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    from backoffice import embedded_db

    embedded_db.ensure_running()
    return embedded_db.url("postgres")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.connector_sync", description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args(argv)
    figures = measure(default_server_url(), args.orders)
    print(
        f"sync_ep: {figures['orders']:,} orders in {figures['seconds']:.1f} s"
        f" = {figures['per_second']:,.0f} orders/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())


def part_connector_sync(database_url: str, orders: int, report, row) -> None:
    """bench/run.py's part 9: one row, orders synced per second."""
    figures = measure(database_url, orders)
    report(
        row(
            "9",
            f"sync_ep of {orders:,} orders from a second instance",
            f"{figures['per_second']:,.0f} orders/s",
            f"{figures['seconds']:.1f} s in all",
        )
    )
