"""Where a sync from the EPCC store stands, so the next run resumes there."""

from django.db import models
from django.utils import timezone


class SyncState(models.Model):
    """The watermark of one walk through the store (`key`: "orders", "usages").

    For orders: the `updated_at` of the last order synced (`watermark`) and
    how many orders with exactly that time were already read (`ties`); the next
    run asks for `ge(updated_at, watermark)` from that many on. For usages:
    `cursor` names the promotions already walked in an unfinished run.
    """

    key = models.CharField(max_length=50, primary_key=True)
    watermark = models.DateTimeField(null=True, blank=True)
    ties = models.PositiveIntegerField(default=0)
    cursor = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "sync state"

    def __str__(self):
        return f"Sync of {self.key} at {self.watermark or 'the start'}"
