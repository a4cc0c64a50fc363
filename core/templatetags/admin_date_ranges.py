"""A date drill-down for large admin lists that never scans the whole table.

Django's `date_hierarchy` lists the years (months, days) that hold rows with
`SELECT DISTINCT date_trunc(...)`, which reads every row of a large table on
every page view. This one asks only for the first and last date (MIN and MAX, served by
the column's index) and offers every period between them; a period without
rows simply shows an empty list.
"""

import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db.models import Max, Min
from django.utils import timezone

register = template.Library()


class _RangeQuerySet:
    """Stands in for `cl.queryset` where Django's tag reads it."""

    def __init__(self, queryset):
        self._queryset = queryset
        self._bounds = {}

    def aggregate(self, *, first, last):
        # Django's tag asks for exactly this first; _periods reuses the answer.
        return self._first_and_last(first.source_expressions[0].name)

    def datetimes(self, field_name, kind):
        return list(self._periods(field_name, kind))

    dates = datetimes

    def _first_and_last(self, field_name):
        if field_name not in self._bounds:
            self._bounds[field_name] = self._queryset.aggregate(first=Min(field_name), last=Max(field_name))
        return self._bounds[field_name]

    def _periods(self, field_name, kind):
        bounds = self._first_and_last(field_name)
        first, last = bounds["first"], bounds["last"]
        if first is None or last is None:
            return
        if isinstance(first, datetime.datetime) and timezone.is_aware(first):
            first, last = timezone.localtime(first), timezone.localtime(last)
        first = datetime.date(first.year, first.month, first.day)
        last = datetime.date(last.year, last.month, last.day)
        if kind == "year":
            for year in range(first.year, last.year + 1):
                yield datetime.date(year, 1, 1)
        elif kind == "month":
            year, month = first.year, first.month
            while (year, month) <= (last.year, last.month):
                yield datetime.date(year, month, 1)
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        else:
            day = first
            while day <= last:
                yield day
                day += datetime.timedelta(days=1)


class _RangeChangeList:
    def __init__(self, cl):
        self._cl = cl
        self.queryset = _RangeQuerySet(cl.queryset)

    def __getattr__(self, name):
        return getattr(self._cl, name)


@register.inclusion_tag("admin/date_hierarchy.html")
def ranged_date_hierarchy(cl):
    return date_hierarchy(_RangeChangeList(cl))
