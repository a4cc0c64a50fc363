"""What the privacy pages keep of their own: the daily backlog snapshots behind the dashboard's chart."""

from django.db import models
from django.utils import timezone


class BacklogSnapshot(models.Model):
    """How many orders waited to be anonymized (eligible, not held) at the end of one day.

    Nothing in the database says when an order became eligible (EPCC sends its
    statuses, not their history), so the backlog's past cannot be computed: the
    daily task `privacy.backlog_snapshot` records it, and the chart shows it from
    the first day recorded on.
    """

    day = models.DateField(primary_key=True)
    waiting_orders = models.PositiveBigIntegerField()
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"Backlog on {self.day}: {self.waiting_orders} orders"
