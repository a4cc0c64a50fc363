"""The one FilterSet of code usages: the API (through EPCC's filter grammar), the admin
and the privacy pages' usage browser (a plain GET form) all use it.

Filter names follow epcc.filtering.filterset_data: `eq(field,v)` is `field`,
`op(field,v)` is `field_op`, so an EPCC filter maps onto it one to one.
"""

import django_filters

from epcc.filtering import DateOrDateTimeFilter, FilterField
from promotions.models import CodeUsage, PromotionCode

# What EPCC's `filter` accepts on usage lists (seed 001), field -> operators.
USAGE_FILTER_FIELDS = {
    "id": FilterField.uuid("eq"),
    "code": FilterField.text("eq"),
    "used_on": FilterField.datetime("eq", "gt", "ge", "lt", "le"),
}


class CodeUsageFilterSet(django_filters.FilterSet):
    id = django_filters.UUIDFilter(field_name="id")
    code = django_filters.CharFilter(method="filter_code", label="Code (any case)")
    used_on = DateOrDateTimeFilter(field_name="used_on", op="eq", label="Used on (a date: that whole day)")
    used_on_gt = DateOrDateTimeFilter(field_name="used_on", op="gt", label="Used after")
    used_on_ge = DateOrDateTimeFilter(field_name="used_on", op="ge", label="Used on or after")
    used_on_lt = DateOrDateTimeFilter(field_name="used_on", op="lt", label="Used before")
    used_on_le = DateOrDateTimeFilter(field_name="used_on", op="le", label="Used on or before")
    # Beyond EPCC's grammar, for the pages and the admin.
    email = django_filters.CharFilter(field_name="customer_email", lookup_expr="iexact", label="Email")
    customer_id = django_filters.UUIDFilter(field_name="customer_id")
    order_id = django_filters.UUIDFilter(field_name="order_id")
    anonymized = django_filters.BooleanFilter(field_name="anonymized")

    class Meta:
        model = CodeUsage
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, promotion_id=None):
        # Known promotion: the code resolves within it only (one code at most).
        self.promotion_id = promotion_id
        super().__init__(data, queryset, request=request, prefix=prefix)

    def filter_code(self, queryset, name, value):
        """Codes match in any case; resolved to their ids first so the usage
        indexes (promotion, promotion_code, used_on, id) serve the query."""
        if not value:
            return queryset
        codes = PromotionCode.objects.named(value)
        if self.promotion_id is not None:
            codes = codes.filter(promotion_id=self.promotion_id)
        code_ids = list(codes.values_list("id", flat=True))
        if not code_ids:
            return queryset.none()
        return queryset.filter(promotion_code_id__in=code_ids)
