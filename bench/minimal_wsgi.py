"""The usage list's floor over HTTP: a minimal WSGI app, psycopg and json, no Django.

    GET /minimal/<promotion id>/codes/<code>/usages?from=..&to=..&offset=..&limit=..

Serves the same page as GET /v2/rule-promotions/{id}/codes/{code}/usages with
a used_on range and -used_on: the code's ids (any case), the count as the
API counts it (exact up to the API's limit, then the planner's estimate
within the count's cap, see bench.run.minimal_statements), the page's
documents written by PostgreSQL with the API's own document expression
(handed over as text in BENCH_MINIMAL_SQL, composed by the bench before the
server starts: nothing here imports Django), `links` and `meta` as the API
writes them. No authentication, throttling, filter parsing or framework.
One connection per thread, autocommit.
"""

import json
import os
import threading
from urllib.parse import parse_qs, unquote, urlencode

import psycopg

STATEMENTS = json.loads(os.environ.get("BENCH_MINIMAL_SQL", "{}"))
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return connection


def _count(cursor, params: dict) -> int:
    cursor.execute(STATEMENTS["count"], params)
    exact = cursor.fetchone()[0]
    if exact < STATEMENTS["count_cap"]:
        return exact
    cursor.execute(STATEMENTS["estimate"], params)
    plan = cursor.fetchone()[0]
    return max(int(plan[0]["Plan"]["Plan Rows"]), STATEMENTS["count_cap"])


def application(environ, start_response):
    parts = environ["PATH_INFO"].strip("/").split("/")
    if len(parts) != 5 or parts[0] != "minimal":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    query = {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    limit, offset = int(query.get("limit", 100)), int(query.get("offset", 0))
    params = {
        "promotion": parts[1],
        "code": unquote(parts[3]),
        "from": query["from"],
        "to": query["to"],
        "limit": limit,
        "offset": offset,
    }
    with _connection().cursor() as cursor:
        cursor.execute(STATEMENTS["code_ids"], params)
        params["code_ids"] = [row[0] for row in cursor.fetchall()]
        total = _count(cursor, params)
        cursor.execute(STATEMENTS["page" if offset < STATEMENTS["deferred_offset"] else "deep_page"], params)
        documents = [row[0] for row in cursor.fetchall()]
    pages = -(-total // limit)
    base = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}?"
    kept = {name: value for name, value in query.items() if name not in ("limit", "offset")}
    last = min(max(pages - 1, 0), 10_000 // limit) * limit

    def url(at: int) -> str:
        return base + urlencode({**kept, "offset": at, "limit": limit})

    members = {
        "links": {
            "current": url(offset),
            "first": url(0),
            "last": url(last),
            "prev": url(min(max(offset - limit, 0), last)),
            "next": url(min(offset + limit, last)),
        },
        "meta": {
            "page": {"limit": limit, "offset": offset, "current": offset // limit + 1, "total": pages},
            "results": {"total": total},
        },
    }
    body = ('{"data":[' + ",".join(documents) + "]," + json.dumps(members)[1:]).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
