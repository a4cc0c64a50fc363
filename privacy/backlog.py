"""The backlog's history: one snapshot a day of the orders waiting to be anonymized."""

from datetime import date

from django.utils import timezone

from orders.models import Order
from privacy.models import BacklogSnapshot


def backlog_snapshot_take(day: date | None = None) -> BacklogSnapshot:
    """Record today's (or `day`'s) backlog: the dashboard's "waiting" figure, by the same rule.

    Taken again the same day, it replaces that day's figure (the latest count wins).
    """
    day = day or timezone.localdate()
    waiting = Order.objects.anonymizable_now().count()
    snapshot, _ = BacklogSnapshot.objects.update_or_create(
        day=day, defaults={"waiting_orders": waiting, "taken_at": timezone.now()}
    )
    return snapshot
