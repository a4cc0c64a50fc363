"""`python -m bench`: build the database, serve it with gunicorn, measure, print one table.

Every figure is set beside a baseline measured in the same run on the same
data, so the ratios hold on any machine. Every timed batch anonymizes fresh
rows drawn at random, which nothing else in the run touched (FreshIds); the
methods take turns batch by batch. Only after the last measurement are the
records the run anonymized given values back (untimed), so `--reuse` can
run again on the same database. docs/performance.md describes each part.
"""

import argparse
import functools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "perf_bench"
HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on now: other benches and tests run on this machine at the same time."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# Chosen once per process (BENCH_PORT overrides): gunicorn binds it, the clients call it.
PORT = int(os.environ.get("BENCH_PORT") or free_port())
BATCH = 1000
BENCH_PASSWORD = "bench-password-not-secret-1"  # noqa: S105 (a throwaway local database)


@dataclass
class Row:
    part: str
    measure: str
    result: str = ""
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


ROWS: list[Row] = []


def report(row: Row) -> None:
    ROWS.append(row)
    print(
        f"  {row.part} {row.measure}: {row.result} {row.baseline and f'| {row.baseline}'} {row.ratio}",
        flush=True,
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the database if it already holds the data."
    )
    # Every timed batch takes fresh rows: 400,000 orders hold ~285,000 eligible, the run uses ~260,000.
    parser.add_argument("--orders", type=int, default=400_000)
    parser.add_argument("--usages", type=int, default=1_000_000)
    parser.add_argument(
        "--quick", action="store_true", help="Small sizes everywhere: checks the bench runs, measures little."
    )
    parser.add_argument("--parts", default="1,2,3,4,5,6,7,8,9,10", help="Which parts to run (default all).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2).")
    parser.add_argument(
        "--batches", type=int, help="Batches of 1000 per method in parts 1 and 2 (default 40 and 50)."
    )
    return parser.parse_args(argv)


# --- Database -----------------------------------------------------------------


def _name_and_admin_url(url: str) -> tuple[str, str]:
    """The database a URL names, and the same URL naming the server's `postgres` database."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    return params["dbname"], make_conninfo(url, dbname="postgres")


def database_recreate(url: str) -> None:
    import psycopg

    name, admin_url = _name_and_admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_exists(url: str) -> bool:
    import psycopg

    name, admin_url = _name_and_admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        return (
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        )


def vacuum_analyze(*tables: str) -> None:
    """Untimed housekeeping between parts: what autovacuum would do on a live system."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- Server -------------------------------------------------------------------


def server_environment(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "DJANGO_CONN_MAX_AGE": "600",
        "DJANGO_LOG_LEVEL": "WARNING",
        # The product's default (6000/min) would throttle the load test itself.
        "API_THROTTLE_RATE": "10000000/min",
    }


def server_start(
    database_url: str,
    workers: int,
    *,
    port: int | None = None,
    app: str = "backoffice.wsgi:application",
    threads: int = 4,
    environment: dict | None = None,
) -> subprocess.Popen:
    """gunicorn serving `app` on HOST and `port` (PORT by default), once it answers."""
    port = port or PORT
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        app,
        *("--config", "gunicorn.conf.py", "--access-logfile", os.devnull),  # production's config, log unread
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "900",
        "--log-level",
        "warning",
    ]
    env = {**server_environment(database_url), **(environment or {})}
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    from bench.http import Client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ({app}) exited at start")
        try:
            Client(HOST, port, timeout=2).request("GET", "/privacy/login/")
            return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"gunicorn did not answer on {HOST}:{port}")


def server_stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def worker_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn master's children (its workers), from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.pid:
            pids.append(int(stat.parent.name))
    return pids


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident set (VmHWM) of these processes, in MB."""
    peaks = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


# --- Putting anonymized records back (untimed) ---------------------------------


def orders_restore(ids: list) -> None:
    """Give anonymized orders personal values again, so another part can anonymize them."""
    from django.db import connection, transaction

    ids = [str(pk) for pk in ids]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE orders_order SET anonymized = false,
              customer_name = 'Bench Person', customer_email = 'bench.' || id || '@example.com',
              contact_name = 'Bench Person', contact_email = 'bench.' || id || '@example.com'
            WHERE id = ANY(%s::uuid[])
            """,
            [ids],
        )
        cursor.execute(
            """
            UPDATE orders_orderaddress SET first_name = 'Bench', last_name = 'Person',
              phone_number = CASE WHEN kind = 'shipping' THEN '+44 20 7946 0000' END,
              company_name = 'Bench Ltd', line_1 = '1 Bench Street', line_2 = 'Flat 1', city = 'London',
              postcode = 'NW1 1AA', county = 'Greater London', region = 'England', country = 'GB',
              instructions = CASE WHEN kind = 'shipping' THEN 'Ring twice' END
            WHERE order_id = ANY(%s::uuid[])
            """,
            [ids],
        )
        cursor.execute(
            """UPDATE orders_ordercustomattribute SET value = '"restored"'::jsonb
               WHERE order_id = ANY(%s::uuid[]) AND value = '"**"'::jsonb""",
            [ids],
        )


def usages_restore(ids: list) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """UPDATE promotions_codeusage SET anonymized = false, updated_by = NULL,
                 customer_email = 'bench.' || id || '@example.com'
               WHERE id = ANY(%s::uuid[])""",
            [[str(pk) for pk in ids]],
        )


def orders_eligible(count: int) -> list:
    from orders.models import Order

    return list(Order.objects.anonymizable_now().order_by("pk").values_list("pk", flat=True)[:count])


class Exhausted(Exception):
    """The run needs more fresh records than the database holds: load a larger one."""


class FreshIds:
    """Eligible ids in a random order, drawn without replacement.

    Every timed batch of the run takes its ids from here, so it works on rows
    no other measurement of this run has touched (never a restored, vacuumed
    or cached slice). `used` lists every id handed out, to give the records
    their values back after the run (untimed), so that --reuse works.
    """

    def __init__(self, ids: list, seed: int = 17):
        import random

        self.ids = list(ids)
        random.Random(seed).shuffle(self.ids)
        self.used: list = []

    def take(self, count: int) -> list:
        if len(self.ids) < count:
            raise Exhausted(f"{count:,} fresh ids wanted, {len(self.ids):,} left: load more records")
        taken, self.ids = self.ids[:count], self.ids[count:]
        self.used.extend(taken)
        return taken


ORDER_TABLES = ("orders_order", "orders_orderaddress", "orders_ordercustomattribute")


def orders_fresh() -> FreshIds:
    from orders.models import Order

    return FreshIds(Order.objects.anonymizable_now().values_list("pk", flat=True))


def usages_fresh() -> FreshIds:
    from promotions.models import CodeUsage

    return FreshIds(CodeUsage.objects.filter(anonymized=False).values_list("pk", flat=True))


def orders_anonymize_raw_sql(ids: list, batch: int = BATCH) -> None:
    """The floor: three UPDATEs per batch (bench.floors), each batch its own transaction."""
    from bench.floors import orders_raw

    for start in range(0, len(ids), batch):
        orders_raw(ids[start : start + batch])


def orders_anonymize_save_loop(ids: list) -> None:
    """What typical GDPR packages do: load each object, mask it, save() it, log it."""
    from django.conf import settings
    from django.db import transaction

    from core.models import AuditRecord, Interface, RecordType
    from orders.models import ADDRESS_PERSONAL_FIELDS, ORDER_PERSONAL_FIELDS, Order

    mask = settings.PRIVACY_MASK
    for pk in ids:
        with transaction.atomic():
            order = Order.objects.get(pk=pk)
            for name in ORDER_PERSONAL_FIELDS:
                if getattr(order, name):
                    setattr(order, name, mask)
            order.anonymized = True
            order.save()
            for address in order.addresses.all():
                for name in ADDRESS_PERSONAL_FIELDS:
                    if getattr(address, name):
                        setattr(address, name, mask)
                address.save()
            for attribute in order.custom_attributes.all():
                if attribute.value not in (None, ""):
                    attribute.value = mask
                    attribute.save()
            AuditRecord.objects.create(
                actor="bench", interface=Interface.COMMAND, record_type=RecordType.ORDER, record_id=pk
            )


def api_anonymize(client, path: str, key: str, ids: list) -> None:
    from bench.http import NotAvailable

    response = client.request("POST", path, body={"data": {key: [str(pk) for pk in ids]}})
    if response.status == 404 and b"errors" not in response.body:
        raise NotAvailable(path)
    if response.status != 200:
        raise RuntimeError(f"POST {path} answered {response.status}: {response.body[:300]!r}")


def service_anonymize(kind: str, ids: list) -> None:
    """The service alone, in this process, as the API calls it (documents returned): the API minus HTTP."""
    from core.audit import Actor
    from core.models import Interface
    from epcc.documents.orders import masked_documents
    from epcc.documents.usages import usage_document
    from orders.services import orders_anonymize
    from promotions.services import usages_anonymize

    actor = Actor.system("bench")
    if kind == "orders":
        orders_anonymize(order_ids=ids, actor=actor, via=Interface.API, returning=masked_documents())
    else:
        usages_anonymize(usage_ids=ids, actor=actor, via=Interface.API, returning=usage_document())


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def taking_turns(methods: dict, fresh: FreshIds, batches: int) -> dict[str, list[float]]:
    """Seconds per batch of BATCH fresh ids, for each method, the methods taking turns.

    Batch after batch, each method anonymizes its own BATCH ids drawn at random
    from `fresh` (never rows another batch touched), in an order that rotates
    from batch to batch, so a checkpoint, autovacuum or another session's load
    falls on every method alike. Nothing is put back or vacuumed in between.
    `methods` maps a name to a function of the batch's ids.
    """
    names = list(methods)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for number in range(batches):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            seconds[name].append(timed(methods[name], fresh.take(BATCH)))
    return seconds


def rate_row(part: str, measure: str, count: int, seconds: float, floors: dict, target: str = "", goal=None):
    """A row: this rate, beside each floor's; `goal` (floor name, ratio) sets the verdict."""
    rate = count / seconds
    ratios = {name: rate / (count / floor_seconds) for name, floor_seconds in floors.items()}
    report(
        Row(
            part,
            measure,
            f"{rate:,.0f}/s ({seconds:.1f} s)",
            "; ".join(f"{name} {count / s:,.0f}/s ({s:.1f} s)" for name, s in floors.items()),
            ", ".join(f"{ratio:.2f}x {name}" for name, ratio in ratios.items()),
            target,
            verdict(ratios[goal[0]] >= goal[1]) if goal else "",
        )
    )
    return rate


def anonymize_part(
    part: str, kind: str, api, path: str, key: str, fresh: FreshIds, batches: int, goal: float
):
    """Part 1 or 2: the API, the service and the two floors taking turns; (records each, the API's rate)."""
    from bench import floors
    from bench.http import NotAvailable

    try:
        seconds = taking_turns(
            {
                "raw SQL": getattr(floors, f"{kind}_raw"),
                "JSON floor": getattr(floors, f"{kind}_json"),
                "service": functools.partial(service_anonymize, kind),
                "API": functools.partial(api_anonymize, api, path, key),
            },
            fresh,
            batches,
        )
    except NotAvailable:
        report(Row(part, f"{kind} anonymized/s via POST {path}", "not available yet (404)"))
        return None
    count = batches * BATCH
    total = {name: sum(values) for name, values in seconds.items()}
    baselines = {"raw SQL": total["raw SQL"], "JSON floor": total["JSON floor"]}
    common = f"batches of {BATCH} fresh random {kind}, {count:,} {kind} each"
    service = f"{kind} anonymized/s, the service in-process, documents returned (no HTTP), {common}"
    rate_row(part, service, count, total["service"], baselines, "(where the API's time goes)")
    api_rate = rate_row(
        part,
        f"{kind} anonymized/s, POST {path}, {common}",
        count,
        total["API"],
        baselines,
        f">= {goal}x JSON floor",
        ("JSON floor", goal),
    )
    return count / total["service"], api_rate


def part_orders_anonymize(api, fresh: FreshIds, batches: int, loop_sample: int) -> None:
    rates = anonymize_part("1", "orders", api, "/v2/orders/anonymize", "order_ids", fresh, batches, 0.8)
    if rates is None:
        return
    service_rate, api_rate = rates
    sample = fresh.take(loop_sample)
    loop_rate = len(sample) / timed(orders_anonymize_save_loop, sample)
    report(
        Row(
            "1",
            f"orders anonymized/s, per-object save() loop ({len(sample)} fresh random orders, extrapolated)",
            f"{loop_rate:,.0f}/s",
            "",
            f"API {api_rate / loop_rate:.0f}x the loop; service {service_rate / loop_rate:.0f}x",
            "",
            "",
        )
    )


def part_usages_anonymize(api, fresh: FreshIds, batches: int) -> None:
    path = "/v2/rule-promotions/usages/anonymize"
    anonymize_part("2", "usages", api, path, "usage_ids", fresh, batches, 0.9)


def popular_code():
    from demo.data import POPULAR_CODE
    from promotions.models import PromotionCode

    return PromotionCode.objects.get(code=POPULAR_CODE)


def range_with_matches(code, wanted: int):
    """A [from, to) range of whole days (dates) in which the code has about `wanted` usages."""
    from datetime import timedelta

    from django.db.models import Max, Min

    usages = code.usages.all()
    span = usages.aggregate(first=Min("used_on"), last=Max("used_on"))
    per_day = usages.count() / max(1, (span["last"] - span["first"]).days)
    days = max(1, round(wanted / per_day))
    end = span["first"].date() + timedelta(days=(span["last"] - span["first"]).days // 2)
    return end - timedelta(days=days), end


def minimal_statements() -> dict:
    """The SQL the minimal WSGI app (bench.minimal_wsgi) runs, composed here with the API's own pieces.

    The document expression is the API's (epcc.documents.usages); the count
    follows epcc.pagination.count_results (exact up to its limit, then the
    planner's estimate); a deep page reads its keys first, as the API does.
    """
    from epcc import pagination
    from epcc.documents.usages import row_document_sql

    where = (
        "promotion_id = %(promotion)s AND promotion_code_id = ANY(%(code_ids)s) "
        "AND used_on >= %(from)s AND used_on < %(to)s"
    )
    order = "ORDER BY used_on DESC, id DESC"
    document = row_document_sql()
    return {
        "code_ids": "SELECT id FROM promotions_promotioncode "
        "WHERE promotion_id = %(promotion)s AND UPPER(code) = UPPER(%(code)s)",
        "count": f"SELECT count(*) FROM (SELECT 1 FROM promotions_codeusage WHERE {where} "  # noqa: S608
        f"LIMIT {pagination.EXACT_COUNT_LIMIT + 1}) counted",
        "count_cap": pagination.EXACT_COUNT_LIMIT + 1,
        "estimate": f"EXPLAIN (FORMAT JSON) SELECT id FROM promotions_codeusage WHERE {where}",  # noqa: S608
        "page": f"SELECT {document} FROM promotions_codeusage WHERE {where} "  # noqa: S608
        f"{order} LIMIT %(limit)s OFFSET %(offset)s",
        "deep_page": f"SELECT {document} FROM (SELECT id, used_on FROM promotions_codeusage "  # noqa: S608
        f"WHERE {where} {order} LIMIT %(limit)s OFFSET %(offset)s) k "
        "JOIN promotions_codeusage ON promotions_codeusage.id = k.id ORDER BY k.used_on DESC, k.id DESC",
        "deferred_offset": pagination.DEFERRED_JOIN_OFFSET,
    }


def sql_alone(database_url: str, statements: dict, params: dict):
    """The minimal app's statements alone, over one psycopg connection: a function timing one page."""
    import psycopg

    connection = psycopg.connect(database_url, autocommit=True)
    page = statements["page" if params["offset"] < statements["deferred_offset"] else "deep_page"]

    def one_page() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statements["code_ids"], params)
            values = {**params, "code_ids": [row[0] for row in cursor.fetchall()]}
            cursor.execute(statements["count"], values)
            if cursor.fetchone()[0] >= statements["count_cap"]:
                cursor.execute(statements["estimate"], values)
                cursor.fetchall()
            cursor.execute(page, values)
            cursor.fetchall()
        return time.perf_counter() - started

    return one_page


def p50s_taking_turns(contestants: dict, requests: int) -> dict[str, tuple[float, float]]:
    """(p50, p95) in ms of each contestant (a function timing one request), taking turns."""
    import statistics

    from bench.http import percentile

    names = list(contestants)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(5):  # warm up: connections, caches
        for name in names:
            contestants[name]()
    for number in range(requests):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            seconds[name].append(contestants[name]())
    return {
        name: (statistics.median(values) * 1000, percentile(values, 0.95) * 1000)
        for name, values in seconds.items()
    }


def _get(client, path: str):
    from bench.http import NotAvailable

    def one() -> float:
        response = client.request("GET", path)
        if response.status == 404:
            raise NotAvailable(path)
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {response.body[:300]!r}")
        return response.seconds

    return one


def autovacuum_settled(table: str, since, wait_seconds: float) -> str:
    """Wait (bounded) for autovacuum to have vacuumed `table` since `since`; what the visibility map says.

    Nothing here vacuums: the lists are measured as autovacuum (the table's
    settings, promotions/migrations/0004) leaves the table after the
    anonymizing parts, which is what a live system would serve.
    """
    from django.db import connection

    deadline = time.monotonic() + wait_seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT last_autovacuum, n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", [table]
            )
            last, dead = cursor.fetchone()
            if (last is not None and last >= since) or time.monotonic() > deadline:
                break
            time.sleep(5)
        cursor.execute("SELECT relallvisible, relpages FROM pg_class WHERE relname = %s", [table])
        visible, pages = cursor.fetchone()
    vacuumed = "autovacuumed after part 2" if last is not None and last >= since else "NOT autovacuumed yet"
    return f"{table} {vacuumed}, {visible / max(pages, 1):.0%} of pages all-visible, {dead:,} dead rows"


def part_usage_list(database_url, make_api, make_plain, make_minimal, requests: int) -> None:
    import psycopg

    from bench.http import NotAvailable

    code = popular_code()
    start, end = range_with_matches(code, 25_000)
    statements = minimal_statements()
    bounds = {"from": f"{start}T00:00:00+00:00", "to": f"{end}T00:00:00+00:00"}
    with psycopg.connect(database_url, autocommit=True) as connection:
        matches = connection.execute(
            "SELECT count(*) FROM promotions_codeusage WHERE promotion_code_id = %s "
            "AND used_on >= %s AND used_on < %s",
            [code.pk, bounds["from"], bounds["to"]],
        ).fetchone()[0]
    for offset in (0, 10_000):
        query = urlencode(
            {
                "filter": f"ge(used_on,{start.isoformat()}):lt(used_on,{end.isoformat()})",
                "sort": "-used_on",
                "page[limit]": 100,
                "page[offset]": offset,
            }
        )
        api_path = f"/v2/rule-promotions/{code.promotion_id}/codes/{quote(code.code)}/usages?{query}"
        page = {**bounds, "offset": offset, "limit": 100}
        plain_path = f"/bench/plain/{code.promotion_id}/codes/{quote(code.code)}/usages?" + urlencode(page)
        minimal_path = f"/minimal/{code.promotion_id}/codes/{quote(code.code)}/usages?" + urlencode(page)
        api = make_api()
        try:
            answered = api.request("GET", api_path)
            if answered.status == 404:
                raise NotAvailable(api_path)
            minimal_answer = make_minimal().request("GET", minimal_path).json()
            p50s = p50s_taking_turns(
                {
                    "API": _get(api, api_path),
                    "minimal WSGI": _get(make_minimal(), minimal_path),
                    "plain Django view": _get(make_plain(), plain_path),
                    "SQL alone": sql_alone(
                        database_url,
                        statements,
                        {**page, "promotion": str(code.promotion_id), "code": code.code},
                    ),
                },
                requests,
            )
        except NotAvailable:
            report(Row("3", "usage list over HTTP", "not available yet (404)"))
            return
        document = answered.json()
        same = document["data"] == minimal_answer["data"]
        total = document["meta"]["results"]["total"]
        ratio = p50s["API"][0] / p50s["minimal WSGI"][0]
        goal = 1.3 if offset == 0 else 1.1
        report(
            Row(
                "3",
                f"usage list, code + used_on range ({matches:,} matches), -used_on, limit 100, "
                f"offset {offset:,}: p50 (p95) of {requests} requests each, taking turns",
                f"p50 {p50s['API'][0]:.1f} ms (p95 {p50s['API'][1]:.1f}); "
                f"meta.results.total {total:,} ({abs(total - matches) / matches:.1%} off)",
                "; ".join(f"{name} {p50:.1f} ms ({p95:.1f})" for name, (p50, p95) in list(p50s.items())[1:])
                + ("" if same else "; PAGES DIFFER"),
                f"{ratio:.2f}x minimal, {p50s['API'][0] / p50s['SQL alone'][0]:.2f}x SQL alone",
                f"p50 <= {goal}x minimal; total within 5%",
                verdict(ratio <= goal and abs(total - matches) <= 0.05 * matches),
            )
        )


def part_count(make_api, latency_requests: int) -> None:
    import statistics

    from django.db import connection

    from bench.http import NotAvailable, measure

    code = popular_code()
    path = f"/v2/rule-promotions/{code.promotion_id}/codes/{quote(code.code)}/usages?" + urlencode(
        {"page[limit]": 100}
    )
    try:
        result = measure(make_api, path, latency_requests=latency_requests, threads=1, per_thread=1)
    except NotAvailable:
        report(Row("4", "meta.results.total at 500,000+ matches", "not available yet (404)"))
        return
    total = make_api().request("GET", path).json()["meta"]["results"]["total"]
    timings = []
    with connection.cursor() as cursor:
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute(
                "SELECT count(*) FROM promotions_codeusage "
                "WHERE promotion_id = %s AND promotion_code_id = %s",
                [code.promotion_id, code.pk],
            )
            exact = cursor.fetchone()[0]
            timings.append(time.perf_counter() - started)
    exact_ms = statistics.median(timings) * 1000
    report(
        Row(
            "4",
            f"list of the popular code, no filter ({exact:,} matches): meta.results.total",
            f"total {total:,}; request p50 {result.p50_ms:.1f} ms",
            f"an exact COUNT(*) alone: {exact_ms:.1f} ms",
            f"total off by {abs(total - exact) / exact:.1%}",
            "the count must not dominate the request",
            verdict(result.p50_ms < exact_ms or result.p50_ms < 50),
        )
    )


def part_find_person(samples: int) -> None:
    import statistics

    from bench.http import Client, NotAvailable, login, percentile
    from orders.models import Order

    client = Client(HOST, PORT)
    try:
        login(client, "/privacy/login/", "bench", BENCH_PASSWORD)
    except NotAvailable:
        report(Row("6", "find a person by email", "not available yet (404)"))
        return
    emails = list(
        Order.objects.filter(anonymized=False)
        .order_by("pk")
        .values_list("customer_email", flat=True)[:samples]
    )
    timings, found = [], 0
    for email in emails:
        response = client.request("GET", "/privacy/people/?" + urlencode({"q": email}))
        if response.status == 404:
            report(Row("6", "find a person by email", "not available yet (404)"))
            return
        if response.status != 200:
            raise RuntimeError(f"person search answered {response.status}")
        found += email.encode() in response.body
        timings.append(response.seconds)
    report(
        Row(
            "6",
            f"find a person by email over everything ({len(emails)} people)",
            f"p50 {statistics.median(timings) * 1000:.0f} ms, p95 {percentile(timings, 0.95) * 1000:.0f} ms",
            "",
            "",
            "",
            f"{found}/{len(emails)} pages show the email",
        )
    )


def part_memory(database_url: str, token: str) -> None:
    """Peak RSS of a worker serving a list of ~10,000 records, then one of the largest list there is."""
    from django.db.models import Count

    from bench.http import Client
    from promotions.models import CodeUsage

    port = free_port()
    server = server_start(database_url, 1, port=port, threads=1)
    try:
        client = Client(HOST, port, headers={"Authorization": f"Bearer {token}"})
        code = popular_code()
        start, end = range_with_matches(code, 10_000)
        small = f"/v2/rule-promotions/{code.promotion_id}/codes/{quote(code.code)}/usages?" + urlencode(
            {"filter": f"ge(used_on,{start.isoformat()}):lt(used_on,{end.isoformat()})", "sort": "-used_on"}
        )
        biggest = CodeUsage.objects.values("promotion_id").annotate(n=Count("id")).order_by("-n").first()
        large = f"/v2/rule-promotions/{biggest['promotion_id']}/usages?sort=-used_on"

        def walk(path: str) -> int:
            """Pages of 100 at offsets 0, 1,000, ... 10,000; the list's total."""
            for offset in range(0, 10_001, 1_000):
                response = client.request("GET", f"{path}&page[limit]=100&page[offset]={offset}")
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")
            return response.json()["meta"]["results"]["total"]

        small_total = walk(small)
        small_peak = peak_rss_mb(worker_pids(server))
        walk(large)
        large_peak = peak_rss_mb(worker_pids(server))
    finally:
        server_stop(server)
    report(
        Row(
            "10",
            "peak RSS (VmHWM) of an API worker (1 worker, 1 thread) after pages of 100 at offsets "
            "0-10,000 of a list",
            f"{small_total:,} records: {small_peak:.0f} MB; "
            f"then {biggest['n']:,} records: {large_peak:.0f} MB",
            "",
            f"{large_peak / small_peak:.2f}x",
            "flat (<= 1.1x)",
            verdict(large_peak <= 1.1 * small_peak),
        )
    )


# --- Main ---------------------------------------------------------------------


def print_table() -> None:
    headers = ("#", "measure", "result", "baseline (same run)", "ratio", "target", "")
    lines = [
        headers,
        *((r.part, r.measure, r.result, r.baseline, r.ratio, r.target, r.verdict) for r in ROWS),
    ]
    print()
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for line in lines[1:]:
        print("| " + " | ".join(line) + " |")


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # BENCH_DATABASE_URL names a server's database; by default, the embedded server's perf_bench.
    database_url = os.environ.get("BENCH_DATABASE_URL")
    if not database_url:
        from backoffice import embedded_db

        embedded_db.ensure_running()
        database_url = embedded_db.url(BENCH_DATABASE)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    if args.quick:
        args.orders, args.usages = min(args.orders, 20_000), min(args.usages, 100_000)
    parts = set(args.parts.split(","))

    reused = args.reuse and database_exists(database_url)
    if not reused:
        database_recreate(database_url)
    import django

    django.setup()
    from django.conf import settings

    # As the server runs (DJANGO_DEBUG=0): no query log in the in-process measurements.
    settings.DEBUG = False
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from core.api_keys import api_key_create
    from orders.models import Order

    call_command("migrate", verbosity=0)
    if not reused or Order.objects.count() < args.orders:
        print(f"Loading demo data: {args.orders:,} orders, {args.usages:,} usages ...", flush=True)
        started = time.perf_counter()
        call_command(
            "demo_data",
            orders=args.orders,
            usages=args.usages,
            seed=1,
            replace=True,
            today=None,
            stdout=sys.stdout,
        )
        seconds = time.perf_counter() - started
        report(
            Row(
                "0",
                f"demo_data --orders {args.orders:,} --usages {args.usages:,}",
                f"{seconds:.0f} s",
                "",
                "",
                "< 180 s (200k/1M)",
                verdict(seconds < 180),
            )
        )
        # Items too: their documents' index-only scans need the visibility map autovacuum sets.
        vacuum_analyze(
            "orders_order",
            "orders_orderaddress",
            "orders_ordercustomattribute",
            "orders_orderitem",
            "promotions_codeusage",
        )

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    user.set_password(BENCH_PASSWORD)
    user.save()
    _, token = api_key_create(name="bench", user=user)

    from bench.http import Client

    def make_api():
        return Client(HOST, PORT, headers={"Authorization": f"Bearer {token}"})

    def make_plain():
        return Client(HOST, PORT)

    quick = args.quick
    orders, usages = orders_fresh(), usages_fresh()
    print(
        f"{len(orders.ids):,} eligible orders and {len(usages.ids):,} usages not anonymized, "
        "drawn at random without replacement by every timed batch",
        flush=True,
    )
    # A SIGTERM (timeout, kill) must still stop gunicorn in the `finally` below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    started_at = machine_state()
    server = server_start(database_url, args.workers)
    minimal_port = free_port()
    minimal = server_start(
        database_url,
        args.workers,
        port=minimal_port,
        app="bench.minimal_wsgi:application",
        environment={"BENCH_MINIMAL_SQL": json.dumps(minimal_statements())},
    )

    def make_minimal():
        return Client(HOST, minimal_port)

    try:
        print(f"gunicorn on http://{HOST}:{PORT} ({args.workers} workers); measuring ...", flush=True)
        if "1" in parts:
            part_orders_anonymize(
                make_api(), orders, args.batches or (2 if quick else 40), 20 if quick else 300
            )
        if "2" in parts:
            part_usages_anonymize(make_api(), usages, args.batches or (3 if quick else 50))
        part_2_ended = database_now()
        if "3" in parts:
            if "2" in parts:
                state = autovacuum_settled("promotions_codeusage", part_2_ended, 0 if quick else 150)
                print(f"  before part 3: {state}", flush=True)
                report(Row("3", "the usages table before the lists", state))
            part_usage_list(database_url, make_api, make_plain, make_minimal, 30 if quick else 200)
        if "4" in parts:
            part_count(make_api, 10 if quick else 50)
        if "6" in parts:
            part_find_person(20 if quick else 100)
        from bench import jobs  # parts 5, 7, 8: jobs on real workers

        jobs.run_parts(parts, database_url=database_url, quick=quick)
        if "9" in parts:  # orders synced from a second instance (bench/connector_sync.py)
            from bench.connector_sync import part_connector_sync

            part_connector_sync(database_url, 2_000 if quick else 20_000, report, Row)
        if "10" in parts:  # peak memory of a request (10,000 to 1,000,000 records)
            part_memory(database_url, token)
    finally:
        server_stop(server)
        server_stop(minimal)
        # Untimed: the records this run anonymized get values again, so --reuse can run again.
        orders_restore(orders.used)
        usages_restore(usages.used)
        vacuum_analyze(*ORDER_TABLES, "promotions_codeusage")
    print(f"\nStarted {started_at}; ended {machine_state()}")
    print_table()
    return 0


def database_now():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def machine_state() -> str:
    """The date and the load average (the machine is shared: a ratio means more beside its load)."""
    from datetime import UTC, datetime

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, load average {load} ({os.cpu_count()} cores)"
