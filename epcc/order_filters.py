"""The one FilterSet of orders: the API (through EPCC's filter grammar), the admin and
the privacy pages all use it.

Filter names follow epcc.filtering.filterset_data: `eq(field,v)` is `field`,
`op(field,v)` is `field_op`, so an EPCC filter maps onto it one to one.
`email` and `name` are the customer's and match in any case; `*_like` takes
EPCC's `*` wildcard.
"""

import django_filters

from epcc.filtering import DateOrDateTimeFilter, FilterField, LikeFilter
from orders.models import Order, OrderStatus, PaymentStatus, ShippingStatus

# What EPCC's `filter` accepts on the order list (SPEC 3), field -> operators.
ORDER_FILTER_FIELDS = {
    "status": FilterField.choice(OrderStatus.values, "eq"),
    "payment": FilterField.choice(PaymentStatus.values, "eq"),
    "shipping": FilterField.choice(ShippingStatus.values, "eq"),
    "anonymized": FilterField.boolean("eq"),
    "email": FilterField.text("eq", "like"),
    "name": FilterField.text("eq", "like"),
    "created_at": FilterField.datetime("gt", "ge", "lt", "le"),
    # What a connector walks by (connector.sync): every order changed since its watermark.
    "updated_at": FilterField.datetime("gt", "ge", "lt", "le"),
}


class OrderFilterSet(django_filters.FilterSet):
    id = django_filters.UUIDFilter(field_name="id")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    payment = django_filters.ChoiceFilter(choices=PaymentStatus.choices)
    shipping = django_filters.ChoiceFilter(choices=ShippingStatus.choices)
    anonymized = django_filters.BooleanFilter(field_name="anonymized")
    email = django_filters.CharFilter(field_name="customer_email", lookup_expr="iexact", label="Email")
    email_like = LikeFilter(field_name="customer_email", label="Email like (* wildcard)")
    name = django_filters.CharFilter(field_name="customer_name", lookup_expr="iexact", label="Name")
    name_like = LikeFilter(field_name="customer_name", label="Name like (* wildcard)")
    customer_id = django_filters.UUIDFilter(field_name="customer_id")
    created_at = DateOrDateTimeFilter(field_name="created_at", op="eq", label="Created on")
    created_at_gt = DateOrDateTimeFilter(field_name="created_at", op="gt", label="Created after")
    created_at_ge = DateOrDateTimeFilter(field_name="created_at", op="ge", label="Created on or after")
    created_at_lt = DateOrDateTimeFilter(field_name="created_at", op="lt", label="Created before")
    created_at_le = DateOrDateTimeFilter(field_name="created_at", op="le", label="Created on or before")
    updated_at_gt = DateOrDateTimeFilter(field_name="updated_at", op="gt", label="Updated after")
    updated_at_ge = DateOrDateTimeFilter(field_name="updated_at", op="ge", label="Updated on or after")
    updated_at_lt = DateOrDateTimeFilter(field_name="updated_at", op="lt", label="Updated before")
    updated_at_le = DateOrDateTimeFilter(field_name="updated_at", op="le", label="Updated on or before")

    class Meta:
        model = Order
        fields = []
