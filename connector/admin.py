"""The admin's read-only outbox (each push to the EPCC store and its state), with the officer's
retry of failed pushes, and where the sync stands."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from connector.models import SyncState
from core.admin_lists import ReadOnlyListAdmin
from core.models import RecordType, UpstreamPush
from core.upstream import upstream_push_retry

RECORD_PAGES = {
    RecordType.ORDER: "admin:orders_order_change",
    RecordType.CODE_USAGE: "admin:promotions_codeusage_change",
}


@admin.register(UpstreamPush)
class UpstreamPushAdmin(ReadOnlyListAdmin):
    list_display = (
        "id",
        "record_type",
        "record",
        "state",
        "attempts",
        "error",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "record_type")
    search_fields = ("=record_id", "=batch_id")
    search_help_text = "A record id, or the audit batch id of an anonymization."
    ordering = ("-id",)
    actions = ["retry_failed_pushes"]

    @admin.display(description="record", ordering="record_id")
    def record(self, push):
        page = RECORD_PAGES.get(push.record_type)
        if page is None:
            return str(push.record_id)
        return format_html('<a href="{}">{}</a>', reverse(page, args=[push.record_id]), push.record_id)

    def has_retry_permission(self, request):
        return request.user.has_perm("orders.anonymize_order") or request.user.has_perm(
            "promotions.anonymize_codeusage"
        )

    @admin.action(permissions=["retry"], description="Send the selected failed pushes again")
    def retry_failed_pushes(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        count = upstream_push_retry(push_ids=selected)
        skipped = len(selected) - count
        self.message_user(
            request, f"{count} failed push(es) will be sent to the store again.", messages.SUCCESS
        )
        if skipped:
            self.message_user(
                request,
                f"{skipped} selected push(es) were not failed and were left as they are.",
                messages.INFO,
            )


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyListAdmin):
    list_display = ("key", "watermark", "ties", "last_run_at", "last_error")
