"""Orders in the admin: read-only (they mirror EPCC), with "Anonymize selected orders".

The rule of who may be anonymized is never restated here: the list's column
and filter and a large selection's counts read
`Order.objects.with_anonymization_block()`, the action asks
`orders_anonymization_review` (for every row shown) and calls `orders_anonymize`.
"""

from django.contrib import admin
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.utils.html import format_html_join

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
from core.formats import format_json_value, format_money
from core.models import Interface, RecordType
from core.upstream import upstream_state_text, upstream_states
from orders.jobs import ORDER_MASKED_FIELDS, ORDERS_ANONYMIZE
from orders.models import (
    MONEY_FIELDS,
    SHIPPING_ADDRESS_FIELDS,
    AnonymizationBlock,
    LegalHold,
    Order,
    OrderAddress,
    OrderCustomAttribute,
    OrderItem,
)
from orders.services import orders_anonymization_review, orders_anonymize


def orders_eligible(queryset):
    """Orders the service would change now."""
    return queryset.anonymizable_now()


def orders_selection_counts(queryset) -> SelectionCounts:
    """A selection's split in one aggregate query, classified as the review classifies.

    A test holds these counts to the review's.
    """
    counts = dict(
        queryset.with_anonymization_block()
        .values("anonymization_block")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("anonymization_block", "count")
    )
    return SelectionCounts(
        selected=sum(counts.values()),
        eligible=counts.get(None, 0),
        already_anonymized=counts.get(AnonymizationBlock.ANONYMIZED, 0),
        refused_by_reason={
            "not_eligible": counts.get(AnonymizationBlock.STATUSES, 0),
            "legal_hold": counts.get(AnonymizationBlock.LEGAL_HOLD, 0),
        },
    )


ORDERS = AnonymizationTarget(
    review=lambda ids: orders_anonymization_review(order_ids=ids),
    eligible=orders_eligible,
    flag_eligible=lambda queryset: queryset.with_anonymization_block().annotate(
        eligible=ExpressionWrapper(Q(anonymization_block=None), output_field=BooleanField())
    ),
    counts=orders_selection_counts,
    anonymize=lambda ids, actor, erasure_request=None: orders_anonymize(
        order_ids=ids, actor=actor, via=Interface.ADMIN, erasure_request=erasure_request
    ),
    job_kind=ORDERS_ANONYMIZE.name,
    record_type=RecordType.ORDER,
    sample_fields=("created_at", "status", "payment", "shipping"),
    masked_fields=ORDER_MASKED_FIELDS,
)


# The list's column, by anonymization_block.
CAN_BE_ANONYMIZED = {
    None: "yes",
    AnonymizationBlock.ANONYMIZED: "done",
    AnonymizationBlock.STATUSES: "no: statuses",
    AnonymizationBlock.LEGAL_HOLD: "no: legal hold",
}


class CanBeAnonymizedFilter(admin.SimpleListFilter):
    title = "can be anonymized"
    parameter_name = "can_be_anonymized"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Yes (not yet anonymized)"),
            ("statuses", "No: statuses do not allow it"),
            ("hold", "No: under legal hold"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return orders_eligible(queryset)
        if self.value() == "statuses":
            return queryset.blocked_by(AnonymizationBlock.STATUSES)
        if self.value() == "hold":
            # Every held order not yet anonymized, whatever its statuses say.
            return queryset.filter(anonymized=False).under_active_hold()
        return queryset


class OrderPartInline(admin.TabularInline):
    """Parts of an order, shown on its page, never edited there.

    Visible to whoever may view the order (no separate permission per part).
    """

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_order")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AddressInline(OrderPartInline):
    model = OrderAddress
    verbose_name_plural = "addresses"
    fields = ("kind", *SHIPPING_ADDRESS_FIELDS)


class ItemInline(OrderPartInline):
    model = OrderItem
    verbose_name_plural = "items"
    fields = ("position", "name", "sku", "quantity", "unit_price", "product_id")
    readonly_fields = ("unit_price",)

    @admin.display(description="unit price")
    def unit_price(self, item):
        # Minor units as EPCC formats them ("€65.00", not 6500 and EUR).
        return format_money(item.unit_amount, item.currency or item.order.currency)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")


class CustomAttributeInline(OrderPartInline):
    model = OrderCustomAttribute
    verbose_name_plural = "custom attributes"
    fields = ("name", "type", "shown_value")
    readonly_fields = ("shown_value",)

    @admin.display(description="value")
    def shown_value(self, attribute):
        # The JSON value as people read it: "**", not "\"**\"".
        return format_json_value(attribute.value) or "-"


class LegalHoldInline(OrderPartInline):
    """Holds are placed and released on the privacy pages (audited there)."""

    model = LegalHold
    fields = ("reason", "ends_on", "created_by", "created_at", "released_at", "released_by")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "released_by")


@admin.register(Order)
class OrderAdmin(ReadOnlyListAdmin):
    # Read-only: orders mirror EPCC, and only the anonymize action changes them
    # (so an anonymized one cannot be edited back).
    actions = ["anonymize_selected_orders"]
    # Narrow enough for a 1280 px screen (a browser test holds it there).
    list_display = (
        short_id,
        compact_datetime("created_at", "created"),
        "status",
        "payment",
        "shipping",
        truncated("customer_email", "customer email"),
        "anonymized",
        "can_be_anonymized",
    )
    cannot_act_reason = "Cannot be anonymized now (see the last column)"
    list_filter = ("status", "payment", "shipping", "anonymized", CanBeAnonymizedFilter)
    date_hierarchy = "created_at"
    # get_search_results below decides how each term is matched; these only
    # name what a term may be (and make the admin show its search box).
    search_fields = ("=id", "=customer_id", "=customer_email")
    search_help_text = "An order id or customer id, or a customer's full email address (any case)."
    ordering = ("-created_at", "-id")
    inlines = (AddressInline, CustomAttributeInline, ItemInline, LegalHoldInline)
    fieldsets = (
        (None, {"fields": ("id", "status", "payment", "shipping", "anonymized", "created_at", "updated_at")}),
        (
            "Customer",
            {
                "fields": (
                    "customer_id",
                    "account_id",
                    "customer_name",
                    "customer_email",
                    "contact_name",
                    "contact_email",
                )
            },
        ),
        ("Money", {"fields": ("display_price",)}),
        ("EPCC store", {"fields": ("upstream",)}),
    )
    readonly_fields = ("id", "display_price", "upstream")

    @admin.display(description="anonymization in the store")
    def upstream(self, order):
        return upstream_state_text(upstream_states(RecordType.ORDER, [order.pk]).get(order.pk))

    @admin.display(description="display price")
    def display_price(self, order):
        # Minor units as EPCC formats them ("£28.80", not 2880).
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            (
                (name.replace("_", " "), format_money(getattr(order, name), order.currency))
                for name in MONEY_FIELDS
            ),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).with_anonymization_block()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if (value := parse_uuid(term)) is not None:
            return queryset.filter(uuid_equals(("pk", "customer_id"), value)), False
        if looks_like_email(term):
            return queryset.filter(email_equals("customer_email", term)), False
        return queryset.none(), False

    @admin.display(description="can be anonymized")
    def can_be_anonymized(self, order):
        return CAN_BE_ANONYMIZED[order.anonymization_block]

    def can_act_on(self, order) -> bool:
        # The action changes only what the rule allows now: no box for the rest.
        return order.anonymization_block is None

    def has_anonymize_permission(self, request):
        return request.user.has_perm("orders.anonymize_order")

    @admin.action(permissions=["anonymize"], description="Anonymize selected orders")
    def anonymize_selected_orders(self, request, queryset):
        return anonymize_selected(self, request, queryset, ORDERS)
