"""`python -m bench`: build the database, serve it with gunicorn, measure, print one table.

Every figure is set beside a baseline measured in the same run on the same
data, so the ratios hold on any machine. Records a part anonymizes are put
back afterwards (untimed), so the parts do not eat each other's data and
`--reuse` can run again on the same database.
"""

import argparse
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
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--usages", type=int, default=1_000_000)
    parser.add_argument(
        "--quick", action="store_true", help="Small sizes everywhere: checks the bench runs, measures little."
    )
    parser.add_argument("--parts", default="1,2,3,4,5,6", help="Which parts to run (default all).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2).")
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


def server_start(database_url: str, workers: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "backoffice.wsgi:application",
        "--bind",
        f"{HOST}:{PORT}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "900",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=server_environment(database_url))  # noqa: S603
    from bench.http import Client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            Client(HOST, PORT, timeout=2).request("GET", "/privacy/login/")
            return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"gunicorn did not answer on {HOST}:{PORT}")


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


# --- The baselines: raw SQL, and a per-object save() loop -----------------------

RAW_ORDER_FIELDS = ("customer_name", "customer_email", "contact_name", "contact_email")
RAW_ADDRESS_FIELDS = (
    *("first_name", "last_name", "phone_number", "company_name", "line_1", "line_2"),
    *("city", "postcode", "county", "region", "country", "instructions"),
)


def uuid_array(ids: list) -> str:
    """The ids as one PostgreSQL array literal, as the product sends them."""
    return "{" + ",".join(map(str, ids)) + "}"


def _masked_sql(column: str) -> str:
    return f"{column} = CASE WHEN {column} IS NULL OR {column} = '' THEN {column} ELSE %(mask)s END"


def orders_anonymize_raw_sql(ids: list, batch: int = BATCH) -> None:
    """The floor: three UPDATEs per batch of 1000, each batch its own transaction."""
    from django.conf import settings
    from django.db import connection, transaction

    order_sets = ", ".join(_masked_sql(c) for c in RAW_ORDER_FIELDS)
    address_sets = ", ".join(_masked_sql(c) for c in RAW_ADDRESS_FIELDS)
    for start in range(0, len(ids), batch):
        params = {"ids": uuid_array(ids[start : start + batch]), "mask": settings.PRIVACY_MASK}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE orders_order SET anonymized = true, updated_at = now(), {order_sets} "  # noqa: S608
                "WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized",
                params,
            )
            cursor.execute(
                f"UPDATE orders_orderaddress SET {address_sets} WHERE order_id = ANY(%(ids)s::uuid[])",  # noqa: S608
                params,
            )
            cursor.execute(
                "UPDATE orders_ordercustomattribute SET value = to_jsonb(%(mask)s::text) "
                "WHERE order_id = ANY(%(ids)s::uuid[]) AND value IS NOT NULL "
                "AND value <> 'null'::jsonb AND value <> '\"\"'::jsonb",
                params,
            )


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


def usages_anonymize_raw_sql(ids: list) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    for start in range(0, len(ids), BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE promotions_codeusage SET anonymized = true, updated_at = now(), "  # noqa: S608
                f"updated_by = 'bench', {_masked_sql('customer_email')} "
                "WHERE id = ANY(%(ids)s::uuid[]) AND NOT anonymized",
                {"ids": uuid_array(ids[start : start + BATCH]), "mask": settings.PRIVACY_MASK},
            )


def api_anonymize(client, path: str, key: str, ids: list) -> None:
    from bench.http import NotAvailable

    for start in range(0, len(ids), BATCH):
        batch = [str(pk) for pk in ids[start : start + BATCH]]
        response = client.request("POST", path, body={"data": {key: batch}})
        if response.status == 404 and start == 0 and b"errors" not in response.body:
            raise NotAvailable(path)
        if response.status != 200:
            raise RuntimeError(f"POST {path} answered {response.status}: {response.body[:300]!r}")


def service_anonymize(kind: str, ids: list) -> None:
    """The service alone, in this process, batches of 1000: the API minus HTTP and the response."""
    from core.audit import Actor
    from core.models import Interface
    from orders.services import orders_anonymize
    from promotions.services import usages_anonymize

    actor = Actor.system("bench")
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        if kind == "orders":
            orders_anonymize(order_ids=batch, actor=actor, via=Interface.COMMAND)
        else:
            usages_anonymize(usage_ids=batch, actor=actor, via=Interface.COMMAND)


def service_row(part: str, kind: str, ids: list, seconds: float, raw_seconds: float) -> float:
    rate = len(ids) / seconds
    report(
        Row(
            part,
            f"{kind} anonymized/s, the service in-process (no HTTP, no response), batches of {BATCH}, "
            f"{len(ids):,} {kind}",
            f"{rate:,.0f}/s ({seconds:.1f} s)",
            raw_baseline(len(ids), raw_seconds),
            f"{rate / (len(ids) / raw_seconds):.2f}x raw SQL",
            "(where the API's time goes)",
            "",
        )
    )
    return rate


def raw_baseline(count: int, seconds: float) -> str:
    return f"raw SQL {count / seconds:,.0f}/s ({seconds:.1f} s)"


# Ids per slice of the interleaved measurement (interleaved below).
SLICE = 10_000


def interleaved(methods: dict, ids: list, restore, tables: tuple[str, ...]) -> dict[str, float]:
    """Seconds each method took over all the ids, measured slice by slice, taking turns.

    Each method anonymizes every slice of SLICE ids, in an order that rotates
    from slice to slice, and the slice is put back and its tables vacuumed
    after each (untimed). A checkpoint, a cold cache or a table aging as its
    rows are rewritten thus falls on every method alike: measured one after
    the other over all the ids, the floor alone varied up to 1.5x between
    its runs before and after the others.
    `methods` maps a name to (function, leading arguments); the slice comes last.
    """
    names = list(methods)
    totals = dict.fromkeys(names, 0.0)
    size = max(BATCH, min(SLICE, len(ids) // 5))
    for number, start in enumerate(range(0, len(ids), size)):
        part = ids[start : start + size]
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            function, arguments = methods[name]
            try:
                totals[name] += timed(function, *arguments, part)
            finally:
                restore(part)
                vacuum_analyze(*tables)
    return totals


ORDER_TABLES = ("orders_order", "orders_orderaddress", "orders_ordercustomattribute")


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


# --- The parts ----------------------------------------------------------------


def part_orders_anonymize(api, sizes: list[int], loop_sample: int) -> None:
    from bench.http import NotAvailable

    service_rates = []
    for size in sizes:
        ids = orders_eligible(size)
        if len(ids) < size:
            report(Row("1", f"orders anonymized/s ({size:,})", f"only {len(ids):,} eligible orders"))
            continue
        try:
            seconds = interleaved(
                {
                    "raw": (orders_anonymize_raw_sql, ()),
                    "service": (service_anonymize, ("orders",)),
                    "api": (api_anonymize, (api, "/v2/orders/anonymize", "order_ids")),
                },
                ids,
                orders_restore,
                ORDER_TABLES,
            )
        except NotAvailable:
            report(Row("1", "orders anonymized/s via POST /v2/orders/anonymize", "not available yet (404)"))
            return
        service_rates.append(service_row("1", "orders", ids, seconds["service"], seconds["raw"]))
        api_rate, raw_rate = size / seconds["api"], size / seconds["raw"]
        report(
            Row(
                "1",
                f"orders anonymized/s, API, batches of {BATCH}, {size:,} orders",
                f"{api_rate:,.0f}/s ({seconds['api']:.1f} s)",
                raw_baseline(len(ids), seconds["raw"]),
                f"{api_rate / raw_rate:.2f}x raw SQL",
                ">= 0.8x raw SQL",
                verdict(api_rate >= 0.8 * raw_rate),
            )
        )
    sample = orders_eligible(loop_sample)
    loop_seconds = timed(orders_anonymize_save_loop, sample)
    orders_restore(sample)
    loop_rate = len(sample) / loop_seconds
    best_api = max(
        (
            float(r.result.split("/s")[0].replace(",", ""))
            for r in ROWS
            if r.part == "1" and "API" in r.measure
        ),
        default=None,
    )
    report(
        Row(
            "1",
            f"orders anonymized/s, per-object save() loop ({len(sample)} orders, extrapolated)",
            f"{loop_rate:,.0f}/s",
            "",
            (f"API {best_api / loop_rate:.0f}x the loop; " if best_api else "")
            + f"service {max(service_rates) / loop_rate:.0f}x",
            "API >= 60x the loop",
            verdict(best_api >= 60 * loop_rate) if best_api else "",
        )
    )


def part_usages_anonymize(api, size: int) -> None:
    from bench.http import NotAvailable
    from promotions.models import CodeUsage

    ids = list(CodeUsage.objects.filter(anonymized=False).order_by("pk").values_list("pk", flat=True)[:size])
    try:
        seconds = interleaved(
            {
                "raw": (usages_anonymize_raw_sql, ()),
                "service": (service_anonymize, ("usages",)),
                "api": (api_anonymize, (api, "/v2/rule-promotions/usages/anonymize", "usage_ids")),
            },
            ids,
            usages_restore,
            ("promotions_codeusage",),
        )
    except NotAvailable:
        report(Row("2", "usages anonymized/s via the API", "not available yet (404)"))
        return
    service_row("2", "usages", ids, seconds["service"], seconds["raw"])
    api_rate, raw_rate = len(ids) / seconds["api"], len(ids) / seconds["raw"]
    report(
        Row(
            "2",
            f"usages anonymized/s, API, batches of {BATCH}, {len(ids):,} usages",
            f"{api_rate:,.0f}/s ({seconds['api']:.1f} s)",
            raw_baseline(len(ids), seconds["raw"]),
            f"{api_rate / raw_rate:.2f}x raw SQL",
            ">= 0.8x raw SQL",
            verdict(api_rate >= 0.8 * raw_rate),
        )
    )


def popular_code():
    from demo.data import POPULAR_CODE
    from promotions.models import PromotionCode

    return PromotionCode.objects.get(code=POPULAR_CODE)


def range_with_matches(code, wanted: int):
    """A [from, to) range of whole days in which the code has about `wanted` usages."""
    from datetime import timedelta

    from django.db.models import Max, Min

    usages = code.usages.all()
    span = usages.aggregate(first=Min("used_on"), last=Max("used_on"))
    per_day = usages.count() / max(1, (span["last"] - span["first"]).days)
    days = max(1, round(wanted / per_day))
    end = span["first"].date() + (span["last"] - span["first"]) / 2
    end = span["first"].date() + timedelta(days=(span["last"] - span["first"]).days // 2)
    start = end - timedelta(days=days)
    matches = usages.filter(used_on__date__gte=start, used_on__date__lt=end).count()
    return start, end, matches


def part_usage_list(make_api, make_plain, latency_requests: int, threads: int, per_thread: int) -> None:
    from bench.http import NotAvailable, measure

    code = popular_code()
    start, end, matches = range_with_matches(code, 25_000)
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
        plain_path = f"/bench/plain/{code.promotion_id}/codes/{quote(code.code)}/usages?" + urlencode(
            {"from": f"{start}T00:00:00+00:00", "to": f"{end}T00:00:00+00:00", "offset": offset}
        )
        plain = measure(
            make_plain, plain_path, latency_requests=latency_requests, threads=threads, per_thread=per_thread
        )
        try:
            api = measure(
                make_api, api_path, latency_requests=latency_requests, threads=threads, per_thread=per_thread
            )
        except NotAvailable:
            report(Row("3", "usage list over HTTP", "not available yet (404)"))
            return
        ratio = api.requests_per_second / plain.requests_per_second
        target = "p50 < 10 ms; >= 0.85x plain" if offset == 0 else ">= 0.85x plain"
        ok = ratio >= 0.85 and (offset != 0 or api.p50_ms < 10)
        report(
            Row(
                "3",
                f"usage list, code + used_on range ({matches:,} matches), -used_on, "
                f"limit 100, offset {offset:,}",
                f"p50 {api.p50_ms:.1f} ms, p95 {api.p95_ms:.1f} ms, {api.requests_per_second:,.0f} req/s",
                f"plain view p50 {plain.p50_ms:.1f} ms, p95 {plain.p95_ms:.1f} ms, "
                f"{plain.requests_per_second:,.0f} req/s",
                f"{ratio:.2f}x plain (req/s)",
                target,
                verdict(ok),
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


def part_admin(database_url: str, size: int) -> None:
    from django.db import connection, transaction

    from bench.http import Client, NotAvailable, login
    from orders.models import Order

    client = Client(HOST, PORT, timeout=900)
    try:
        login(client, "/admin/login/?next=/admin/", "bench", BENCH_PASSWORD)
    except NotAvailable:
        report(Row("5", "admin select-all anonymize", "not available yet (404)"))
        return
    changelist = "/admin/orders/order/?can_be_anonymized=yes"
    page = client.request("GET", changelist)
    if page.status == 404 or b"anonymize_selected_orders" not in page.body:
        report(Row("5", "admin select-all anonymize", f"not available yet (changelist {page.status})"))
        return
    # Exactly `size` eligible orders: the surplus is parked in a status that does not allow it.
    eligible = orders_eligible(10**9)
    selected, surplus = eligible[:size], eligible[size:]
    parked = list(Order.objects.filter(pk__in=surplus).values_list("pk", "status", "payment", "shipping"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET status = 'processing', payment = 'paid', shipping = 'unfulfilled' "
            "WHERE id = ANY(%s::uuid[])",
            [[str(pk) for pk in surplus]],
        )
    vacuum_analyze("orders_order")
    # The floor for this part: the same orders masked by three hand-written UPDATEs, one transaction.
    raw_seconds = timed(orders_anonymize_raw_sql, selected, len(selected))
    orders_restore(selected)
    vacuum_analyze("orders_order", "orders_orderaddress", "orders_ordercustomattribute")
    try:
        form = {
            "action": "anonymize_selected_orders",
            "select_across": "1",
            "index": "0",
            "_selected_action": str(selected[0]),
            "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
        }
        headers = {"Referer": f"http://{HOST}:{PORT}{changelist}"}
        confirm = client.request("POST", changelist, form=form, headers=headers)
        done = client.request("POST", changelist, form={**form, "post": "yes"}, headers=headers)
        anonymized = Order.objects.filter(pk__in=selected, anonymized=True).count()
    finally:
        orders_restore(selected)
        with transaction.atomic(), connection.cursor() as cursor:
            for pk, status, payment, shipping in parked:
                cursor.execute(
                    "UPDATE orders_order SET status = %s, payment = %s, shipping = %s WHERE id = %s",
                    [status, payment, shipping, pk],
                )
        vacuum_analyze("orders_order", "orders_orderaddress", "orders_ordercustomattribute")
    if done.status != 302 or anonymized != len(selected):
        report(
            Row(
                "5",
                f"admin select-all anonymize ({len(selected):,} orders)",
                f"failed: status {done.status}, {anonymized:,} anonymized",
            )
        )
        return
    report(
        Row(
            "5",
            f"admin select-all 'Anonymize selected orders', {len(selected):,} eligible orders",
            f"{done.seconds:.1f} s ({len(selected) / done.seconds:,.0f}/s)",
            f"raw SQL, 3 UPDATEs in one transaction: {raw_seconds:.1f} s; "
            f"its confirmation page: {confirm.seconds:.1f} s",
            f"{raw_seconds / done.seconds:.2f}x raw SQL",
            "< 10 s",
            verdict(done.seconds < 10),
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
    # A SIGTERM (timeout, kill) must still stop gunicorn in the `finally` below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    server = server_start(database_url, args.workers)
    try:
        print(f"gunicorn on http://{HOST}:{PORT} ({args.workers} workers); measuring ...", flush=True)
        if "1" in parts:
            part_orders_anonymize(
                make_api(), [1_000, 5_000] if quick else [10_000, 100_000], 50 if quick else 300
            )
        if "2" in parts:
            part_usages_anonymize(make_api(), 5_000 if quick else 100_000)
        if "3" in parts:
            part_usage_list(make_api, make_plain, 30 if quick else 200, 4, 10 if quick else 100)
        if "4" in parts:
            part_count(make_api, 10 if quick else 50)
        if "5" in parts:
            part_admin(database_url, 5_000 if quick else 100_000)
        if "6" in parts:
            part_find_person(20 if quick else 100)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table()
    return 0
