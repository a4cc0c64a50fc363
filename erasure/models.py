"""The items of an erasure request: one per record found for its subject.

The request itself is core.ErasureRequest (the audit trail links to it). An
item keeps the record's id only, never a value of it; its `reason` is written
from statuses, a legal hold's reason (staff's words about the order) or the
officer's words, never from the record's personal fields.
"""

import uuid

from django.db import models
from django.utils import timezone

from core.models import ErasureRequest, RecordType


class ItemState(models.TextChoices):
    PENDING = "pending", "To handle"
    ANONYMIZED = "anonymized", "Anonymized"
    WAITING = "waiting", "Waiting"
    EXCLUDED = "excluded", "Excluded"


class WaitReason(models.TextChoices):
    """Why an item waits, for machines (the API's status_description); `reason` says it in words."""

    STATUSES = "statuses", "Not yet fulfilled, cancelled or refunded"
    LEGAL_HOLD = "legal_hold", "Under legal hold"
    NOT_FOUND = "not_found", "No longer in the database"


class ErasureRequestItem(models.Model):
    """One order or code usage of a request's subject, and what became of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(ErasureRequest, on_delete=models.CASCADE, related_name="items")
    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    record_id = models.UUIDField()
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.PENDING)
    wait_reason = models.CharField(max_length=20, choices=WaitReason.choices, blank=True, default="")
    waiting_until = models.DateField(null=True, blank=True, help_text="A legal hold's end, when it has one.")
    reason = models.TextField(
        blank=True, default="", help_text="Why it waits or was excluded; no personal value."
    )
    batch_id = models.UUIDField(null=True, blank=True, help_text="The audit batch that anonymized it.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    anonymized_at = models.DateTimeField(null=True, blank=True)
    excluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request", "-record_type", "record_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "record_type", "record_id"], name="erasure_item_once_per_request"
            )
        ]
        indexes = [
            # A request's status from its items (is anything pending, anything waiting?): without
            # it, each chunk an admin job files under one big request scanned all its items.
            models.Index(fields=["request", "state"], name="erasure_item_request_state_idx"),
            # The follow-up's and the import's lookups: the waiting items, a record's items.
            models.Index(
                fields=["record_type", "record_id"],
                name="erasure_item_waiting_idx",
                condition=models.Q(state__in=["pending", "waiting"]),
            ),
        ]
        verbose_name = "erasure request item"

    def __str__(self):
        return f"{self.record_type} {self.record_id} of erasure request {self.request_id}"
