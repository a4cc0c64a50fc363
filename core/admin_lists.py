"""What keeps the admin's change lists fast on 200,000 orders and 1,000,000 usages.

A paginator that does not count a whole large table on every page view, and
searches that hit an index: exact ids, an exact (any case) email through the
`Upper(...)` indexes, never `icontains` over a million rows.
"""

import uuid

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

# Below this many rows an exact count is cheap, and exact counts read better.
ESTIMATE_ABOVE = 100_000


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except an unfiltered list of a large PostgreSQL table.

    There it takes the planner's row estimate (pg_class.reltuples, kept fresh
    by autovacuum) instead of a COUNT(*) over every row. A filtered list is
    always counted exactly, so "Select all N" and the anonymize confirmation
    speak of the real N once a filter narrows the list.
    """

    @cached_property
    def count(self):
        estimate = self._estimate()
        if estimate is not None and estimate >= ESTIMATE_ABOVE:
            return estimate
        return super().count

    def _estimate(self) -> int | None:
        query = getattr(self.object_list, "query", None)
        if query is None or query.where:
            return None
        connection = connections[self.object_list.db]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(self.object_list.model._meta.db_table)],
            )
            row = cursor.fetchone()
        # -1 (or nothing) means the table was never analysed: count instead.
        if not row or row[0] is None or row[0] < 0:
            return None
        return int(row[0])


def parse_uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


def looks_like_email(term: str) -> bool:
    return "@" in term and " " not in term.strip()


def email_equals(field: str, term: str) -> Q:
    """An exact, case-insensitive match; `iexact` compiles to UPPER(col) = UPPER(%s)
    on PostgreSQL, which the model's `Upper(field)` index serves."""
    return Q(**{f"{field}__iexact": term.strip()})


def uuid_equals(fields: tuple[str, ...], value: uuid.UUID) -> Q:
    query = Q()
    for field in fields:
        query |= Q(**{field: value})
    return query


@admin.display(description="id", ordering="pk")
def short_id(obj):
    """A UUID's first 8 characters, the whole in its tooltip: full ids wrapped over four lines."""
    return format_html('<span class="short-id" title="{}">{}…</span>', obj.pk, str(obj.pk)[:8])


def compact_datetime(field: str, description: str):
    """A column showing `field` as "2026-12-04 17:32" (local time): Django's "Dec. 4, 2026, 5:32 p.m." is
    twice as wide, and the list must fit a 1280 px screen."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        value = getattr(obj, field)
        if value is None:
            return "-"
        return format_html(
            '<span class="nowrap">{}</span>', timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        )

    column.__name__ = field
    return column


def truncated(field: str, description: str):
    """A column cut to one line with an ellipsis (the whole value in its tooltip)."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        value = getattr(obj, field) or ""
        return format_html('<span class="truncate" title="{}">{}</span>', value, value)

    column.__name__ = field
    return column


class LargeListAdmin(admin.ModelAdmin):
    """A change list that stays fast over millions of rows: no full counts, facets or date scans."""

    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Facet counts would count the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    # Its date drill-down reads MIN/MAX only (core/templatetags/admin_date_ranges.py).
    change_list_template = "admin/ranged_date_change_list.html"

    class Media:
        # Narrow columns, one-line cells: the list fits 1280 px without scrolling sideways.
        css = {"all": ("core/admin-lists.css",)}


class ReadOnlyListAdmin(LargeListAdmin):
    """A large list nobody adds to, edits or deletes from in the admin.

    Its records are imported (orders and usages mirror EPCC) or written by a
    service (the audit trail); an admin action that calls a service may still
    change them, with its own permission.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def can_act_on(self, obj) -> bool:
        """Whether the list's action can do anything to `obj`; its checkbox is disabled when not."""
        return True

    def action_checkbox(self, obj):
        if self.can_act_on(obj):
            return super().action_checkbox(obj)
        # Not an "action-select": the admin's script neither ticks nor counts it.
        return format_html(
            '<input type="checkbox" class="action-unavailable" disabled title="{}" aria-label="{}">',
            self.cannot_act_reason,
            f"{self.cannot_act_reason}: {obj}",
        )

    cannot_act_reason = "Nothing to do for this record"
