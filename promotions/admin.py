"""Promotions with their codes, and code usages with "Anonymize selected code usages".

Usages mirror EPCC and are read-only here; only the anonymize action, through
`usages_anonymize`, changes them.
"""

from django.contrib import admin
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.utils.html import format_html

from core.admin_actions import AnonymizationTarget, SelectionCounts, anonymize_selected
from core.admin_lists import (
    ReadOnlyListAdmin,
    compact_datetime,
    email_equals,
    looks_like_email,
    parse_uuid,
    short_id,
    truncated,
    uuid_equals,
)
from core.models import Interface, RecordType
from core.upstream import upstream_state_text, upstream_states
from promotions.jobs import USAGE_MASKED_FIELDS, USAGES_ANONYMIZE
from promotions.models import CodeUsage, Promotion, PromotionCode
from promotions.services import usages_anonymization_review, usages_anonymize


def usages_selection_counts(queryset) -> SelectionCounts:
    """A selection's split in one aggregate query: every usage is eligible unless already done."""
    counts = queryset.aggregate(selected=Count("pk"), already=Count("pk", filter=Q(anonymized=True)))
    return SelectionCounts(
        selected=counts["selected"],
        eligible=counts["selected"] - counts["already"],
        already_anonymized=counts["already"],
        refused_by_reason={},
    )


USAGES = AnonymizationTarget(
    review=lambda ids: usages_anonymization_review(usage_ids=ids),
    # Any usage may be anonymized; those already done need nothing.
    eligible=lambda queryset: queryset.filter(anonymized=False),
    flag_eligible=lambda queryset: queryset.annotate(
        eligible=ExpressionWrapper(Q(anonymized=False), output_field=BooleanField())
    ),
    counts=usages_selection_counts,
    anonymize=lambda ids, actor, erasure_request=None: usages_anonymize(
        usage_ids=ids, actor=actor, via=Interface.ADMIN, erasure_request=erasure_request
    ),
    job_kind=USAGES_ANONYMIZE.name,
    record_type=RecordType.CODE_USAGE,
    sample_fields=("used_on", "code", "order_id"),
    masked_fields=USAGE_MASKED_FIELDS,
)


@admin.display(description="promotion", ordering="promotion__name")
def truncated_promotion(usage):
    name = usage.promotion.name
    return format_html('<span class="truncate" title="{}">{}</span>', name, name)


class PromotionCodeInline(admin.TabularInline):
    model = PromotionCode
    fields = ("code", "created_at")
    readonly_fields = ("created_at",)
    extra = 0
    # Deleting a code would delete its usages with it.
    can_delete = False


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "=id")
    ordering = ("name", "id")
    inlines = (PromotionCodeInline,)

    def has_delete_permission(self, request, obj=None):
        # Deleting a promotion would delete its usages (up to millions) with it.
        return False


@admin.register(CodeUsage)
class CodeUsageAdmin(ReadOnlyListAdmin):
    actions = ["anonymize_selected_code_usages"]
    # Narrow enough for a 1280 px screen (a browser test holds it there).
    list_display = (
        short_id,
        compact_datetime("used_on", "used on"),
        truncated("code", "code"),
        truncated_promotion,
        truncated("customer_email", "customer email"),
        "times_used",
        "anonymized",
    )
    cannot_act_reason = "Already anonymized"
    list_select_related = ("promotion",)
    list_filter = ("anonymized", "promotion")
    date_hierarchy = "used_on"
    # get_search_results below decides how each term is matched.
    search_fields = ("=id", "=order_id", "=customer_id", "=customer_email", "=code")
    search_help_text = (
        "A usage id, order id or customer id, a customer's full email address, or a code (any case)."
    )
    ordering = ("-used_on", "-id")
    readonly_fields = ("upstream",)

    @admin.display(description="anonymization in the store")
    def upstream(self, usage):
        return upstream_state_text(upstream_states(RecordType.CODE_USAGE, [usage.pk]).get(usage.pk))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if (value := parse_uuid(term)) is not None:
            return queryset.filter(uuid_equals(("pk", "order_id", "customer_id"), value)), False
        if looks_like_email(term):
            return queryset.filter(email_equals("customer_email", term)), False
        # A code: through its (few) PromotionCode rows, so the usage indexes
        # that lead with promotion_code serve the search.
        return queryset.filter(promotion_code__in=PromotionCode.objects.named(term)), False

    def can_act_on(self, usage) -> bool:
        return not usage.anonymized

    def has_anonymize_permission(self, request):
        return request.user.has_perm("promotions.anonymize_codeusage")

    @admin.action(permissions=["anonymize"], description="Anonymize selected code usages")
    def anonymize_selected_code_usages(self, request, queryset):
        return anonymize_selected(self, request, queryset, USAGES)
