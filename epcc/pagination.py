"""EPCC's paging, for every list of the API: `page[limit]`, `page[offset]`, `links`, `meta`.

- `page[limit]`: 1..MAX_LIMIT, default DEFAULT_LIMIT; `page[offset]`: 0..MAX_OFFSET.
  Anything else (out of range, not an integer, given twice) is a 400.
- `links` {current first last prev next}: absolute URLs of the same path and query,
  with only the page parameters replaced; prev and next are clamped to first and last.
  `last` is the last page a client may ask for: past MAX_OFFSET it stops at the last
  page that starts within it.
- `meta.page` {limit offset current total}: `current` = offset // limit + 1, `total`
  = the number of pages; `meta.results.total` = the number of results. With no
  results `page.total` and `results.total` are 0, `current` is 1, and every link
  points at offset 0.
- The count comes from `count_results(queryset)`, the one place that counts: exact up
  to EXACT_COUNT_LIMIT (far past every reachable page), past it PostgreSQL's planner
  estimate.
"""

import json
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connections
from rest_framework.exceptions import ParseError
from rest_framework.pagination import BasePagination

LIMIT_PARAM = "page[limit]"
OFFSET_PARAM = "page[offset]"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10000
# Results counted exactly; past it `meta.results.total` is an estimate (see count_results).
# Counting rides the list's index (an index-only scan): 50,000 entries cost a few ms,
# and a filtered list's planner estimate was 11-15% off (docs/performance.md).
EXACT_COUNT_LIMIT = 50_000


def planner_row_estimate(queryset) -> int:
    """PostgreSQL's estimate of the rows a query returns (EXPLAIN, nothing run)."""
    connection = connections[queryset.db]
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _bounded_int(request, name: str, *, default: int, low: int, high: int) -> int:
    values = request.query_params.getlist(name)
    if not values:
        return default
    text = values[0]
    if len(values) > 1 or not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise ParseError(f"{name} must be one integer from {low} to {high}")
    return int(text)


# From this offset on, a page is read by its keys first (EpccPagination.page_documents).
DEFERRED_JOIN_OFFSET = 1000


class EpccPagination(BasePagination):
    """Offset paging in EPCC's shape (seed 001)."""

    def count_results(self, queryset) -> int:
        """How many results the query has: exact up to EXACT_COUNT_LIMIT, else an estimate.

        Every page a client may ask for lies within the first MAX_OFFSET +
        MAX_LIMIT results; the count goes further, to EXACT_COUNT_LIMIT, so
        that a filtered list's total is exact (the planner's estimate of a
        range filter was 11-15% off), but not to the end: a scan of every
        match (500,000 of them for a popular code) would dominate the
        request. Past the limit, PostgreSQL's planner estimates the total
        (never below the limit).
        """
        exact = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if exact <= EXACT_COUNT_LIMIT:
            return exact
        return max(planner_row_estimate(queryset), EXACT_COUNT_LIMIT + 1)

    def read_params(self, request) -> tuple[int, int]:
        limit = _bounded_int(request, LIMIT_PARAM, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        offset = _bounded_int(request, OFFSET_PARAM, default=0, low=0, high=MAX_OFFSET)
        return limit, offset

    def page_meta(self) -> dict:
        pages = -(-self.count // self.limit)
        return {
            "page": {
                "limit": self.limit,
                "offset": self.offset,
                "current": self.offset // self.limit + 1,
                "total": pages,
            },
            "results": {"total": self.count},
        }

    def links(self) -> dict:
        pages = -(-self.count // self.limit)
        last = min(max(pages - 1, 0), MAX_OFFSET // self.limit) * self.limit
        return {
            "current": self.url(self.offset),
            "first": self.url(0),
            "last": self.url(last),
            "prev": self.url(min(max(self.offset - self.limit, 0), last)),
            "next": self.url(min(max(self.offset + self.limit, 0), last)),
        }

    def url(self, offset: int) -> str:
        kept = [
            (name, value)
            for name, values in self.request.query_params.lists()
            if name not in (LIMIT_PARAM, OFFSET_PARAM)
            for value in values
        ]
        pairs = [*kept, (OFFSET_PARAM, offset), (LIMIT_PARAM, self.limit)]
        # Brackets and EPCC's filter punctuation stay readable, as in EPCC's own links.
        query = urlencode(pairs, safe="[]():,*@")
        return self.request.build_absolute_uri(self.request.path) + "?" + query

    def page_documents(self, queryset, request, documents_json, documents_of=None) -> tuple[list[str], dict]:
        """The page's documents as JSON texts (written by the database), and its `links` and `meta`.

        `documents_json(keys)` returns each document as JSON text in the keys'
        order. The page's keys are read first, which the sort's index answers
        alone (an index-only scan, never visiting the rows it skips): read in
        one step, the rows a deep page skips would each be fetched from the
        table only to be thrown away. A shallow page (offset <
        DEFERRED_JOIN_OFFSET) is instead written by its own query when
        `documents_of(queryset)` turns the queryset into its documents.
        Python builds no document.
        """
        window = self._start(queryset, request)
        if documents_of is not None and self.offset < DEFERRED_JOIN_OFFSET:
            documents = list(documents_of(queryset)[window])
        else:
            documents = documents_json(list(queryset[window].values_list("pk", flat=True)))
        return documents, {"links": self.links(), "meta": self.page_meta()}

    def page_rows(self, queryset, request) -> tuple[list, dict]:
        """The page's rows of `queryset` (models or values), and its `links` and `meta`.

        For the small lists whose documents Python writes from the rows
        (epcc.documents.personal_data): one count and one query for the page.
        """
        window = self._start(queryset, request)
        return list(queryset[window]), {"links": self.links(), "meta": self.page_meta()}

    def _start(self, queryset, request) -> slice:
        """Reads the page parameters and counts the results; the page's window of them."""
        self.request = request
        self.limit, self.offset = self.read_params(request)
        self.count = self.count_results(queryset)
        return slice(self.offset, self.offset + self.limit)

    def get_paginated_response_schema(self, schema):
        def url():
            # Absolute URLs; not "format: uri", as EPCC's brackets in queries are not RFC 3986.
            return {"type": "string"}

        def number():
            return {"type": "integer", "minimum": 0}

        return {
            "type": "object",
            "required": ["data", "links", "meta"],
            "properties": {
                "data": schema,
                "links": {
                    "type": "object",
                    "required": ["current", "first", "last", "prev", "next"],
                    "properties": {name: url() for name in ("current", "first", "last", "prev", "next")},
                },
                "meta": {
                    "type": "object",
                    "required": ["page", "results"],
                    "properties": {
                        "page": {
                            "type": "object",
                            "required": ["limit", "offset", "current", "total"],
                            "properties": {
                                name: number() for name in ("limit", "offset", "current", "total")
                            },
                        },
                        "results": {
                            "type": "object",
                            "required": ["total"],
                            "properties": {"total": number()},
                        },
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": LIMIT_PARAM,
                "in": "query",
                "required": False,
                "description": f"Results per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
            {
                "name": OFFSET_PARAM,
                "in": "query",
                "required": False,
                "description": f"Results to skip, 0 to {MAX_OFFSET}.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            },
        ]
