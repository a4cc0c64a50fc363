"""Rule promotions, their codes and the usages of those codes, as EPCC holds them."""

import uuid

from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone

USAGE_PERSONAL_FIELDS = ("customer_email",)


class Promotion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class PromotionCodeQuerySet(models.QuerySet):
    def named(self, code: str):
        """Codes are case-insensitive: 'SUMMER10' and 'summer10' are one code."""
        return self.filter(code__iexact=code)


class PromotionCode(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PromotionCodeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(Lower("code"), "promotion", name="code_unique_in_promotion_ci"),
        ]

    def __str__(self):
        return self.code


class CodeUsage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The composite indexes below lead with these two, so no single-column ones.
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="usages", db_index=False)
    promotion_code = models.ForeignKey(
        PromotionCode, on_delete=models.CASCADE, related_name="usages", db_index=False
    )
    code = models.CharField(max_length=255, help_text="The code as the customer entered it.")
    order_id = models.UUIDField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=1)
    used_on = models.DateTimeField(default=timezone.now)
    customer_id = models.UUIDField(null=True, blank=True)
    customer_email = models.CharField(max_length=255, null=True, blank=True)
    account_id = models.UUIDField(null=True, blank=True)
    anonymized = models.BooleanField(default=False)
    updated_by = models.CharField(max_length=64, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["used_on", "id"]
        permissions = [("anonymize_codeusage", "Can anonymize code usages")]
        indexes = [
            models.Index(
                fields=["promotion", "promotion_code", "used_on", "id"],
                name="usage_promo_code_used_idx",
            ),
            models.Index(fields=["promotion_code", "used_on", "id"], name="usage_code_used_idx"),
            models.Index(fields=["promotion", "used_on", "id"], name="usage_promo_used_idx"),
            # The admin's list of every usage, newest first, and its date drill-down.
            models.Index(fields=["used_on", "id"], name="usage_used_idx"),
            models.Index(Upper("customer_email"), name="usage_email_upper_idx"),
            models.Index(fields=["customer_id"], name="usage_customer_idx"),
            models.Index(fields=["account_id"], name="usage_account_idx"),
            models.Index(fields=["order_id"], name="usage_order_idx"),
        ]

    def __str__(self):
        # Ids, never people: this string lands in admin history (LogEntry).
        return f"Usage {self.pk}"
