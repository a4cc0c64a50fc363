"""The orders endpoints of the EPCC-compatible API.

GET /v2/orders, GET /v2/orders/{id}, POST /v2/orders/anonymize. The view
parses, calls orders.services, and answers the EPCC documents epcc.documents.orders
writes.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.errors import ORDER_NOT_FOUND_DETAIL
from core.upstream import upstream_configured
from epcc.documents.orders import masked_documents, order_document, orders_epcc_json
from epcc.order_filters import ORDER_FILTER_FIELDS, OrderFilterSet
from epcc.schema import (
    batch_request_serializer,
    error_responses,
    inline_serializer,
    serializer_class,
    upstream_serializer,
)
from epcc.views import EpccViewSet, anonymized_response
from orders.models import (
    BILLING_ADDRESS_FIELDS,
    MONEY_FIELDS,
    SHIPPING_ADDRESS_FIELDS,
    Order,
    OrderStatus,
    PaymentStatus,
    ShippingStatus,
)
from orders.services import orders_anonymize

# --- Schema of EPCC's order document (seed 002/003), as epcc.documents.orders writes it ---


def _text_fields(names) -> dict:
    return {name: serializers.CharField(required=False, allow_blank=True) for name in names}


MoneySchema = serializer_class(
    "Money",
    {
        "amount": serializers.IntegerField(help_text="Minor units."),
        "currency": serializers.CharField(),
        "formatted": serializers.CharField(),
    },
)
RelatedSchema = serializer_class("Related", {"type": serializers.CharField(), "id": serializers.UUIDField()})
OrderDocumentSchema = serializer_class(
    "Order",
    {
        "type": serializers.ChoiceField(choices=["order"]),
        "id": serializers.UUIDField(),
        "status": serializers.ChoiceField(choices=OrderStatus.values),
        "payment": serializers.ChoiceField(choices=PaymentStatus.values),
        "shipping": serializers.ChoiceField(choices=ShippingStatus.values),
        "anonymized": serializers.BooleanField(),
        "customer": inline_serializer(
            name="OrderPerson", fields=_text_fields(["name", "email"]), required=False
        ),
        "contact": inline_serializer(
            name="OrderContact", fields=_text_fields(["name", "email"]), required=False
        ),
        "shipping_address": inline_serializer(
            name="ShippingAddress", fields=_text_fields(SHIPPING_ADDRESS_FIELDS), required=False
        ),
        "billing_address": inline_serializer(
            name="BillingAddress", fields=_text_fields(BILLING_ADDRESS_FIELDS), required=False
        ),
        "custom_attributes": serializers.DictField(
            child=inline_serializer(
                name="CustomAttribute",
                fields={
                    "name": serializers.CharField(),
                    "type": serializers.CharField(),
                    "value": serializers.JSONField(allow_null=True),
                },
            ),
            required=False,
        ),
        "links": serializers.DictField(),
        "meta": inline_serializer(
            name="OrderMeta",
            fields={
                "display_price": inline_serializer(
                    name="DisplayPrice", fields={name: MoneySchema() for name in MONEY_FIELDS}
                ),
                "timestamps": inline_serializer(
                    name="OrderTimestamps",
                    fields={
                        "created_at": serializers.DateTimeField(),
                        "updated_at": serializers.DateTimeField(),
                    },
                ),
                "upstream": upstream_serializer(),
            },
        ),
        "relationships": inline_serializer(
            name="OrderRelationships",
            fields={
                "items": inline_serializer(name="OrderItems", fields={"data": RelatedSchema(many=True)}),
                "customer": inline_serializer(
                    name="OrderCustomer", fields={"data": RelatedSchema()}, required=False
                ),
                "account": inline_serializer(
                    name="OrderAccount", fields={"data": RelatedSchema()}, required=False
                ),
            },
        ),
    },
)
OrderAnonymizeRequest = batch_request_serializer("OrderAnonymizeRequest", "order_ids", "orders")
OrderListSchema = serializer_class("OrderDocuments", {"data": OrderDocumentSchema(many=True)})
OrderSingleSchema = serializer_class("OrderDocument", {"data": OrderDocumentSchema()})


class OrderViewSet(mixins.RetrieveModelMixin, EpccViewSet):
    queryset = Order.objects.all()
    documents_json = staticmethod(orders_epcc_json)
    required_permissions = {
        "list": ["orders.view_order"],
        "retrieve": ["orders.view_order"],
        "anonymize": ["orders.anonymize_order"],
    }
    filterset_class = OrderFilterSet
    filter_fields = ORDER_FILTER_FIELDS
    filter_example = "eq(status,complete):like(email,*@example.com):ge(created_at,2024-01-01)"
    # Newest first; both directions ride the (created_at, id) index. `updated_at` is what a
    # connector walks by (ascending, in windows of its filter); ties break on id.
    sorts = {
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
        "updated_at": ("updated_at", "id"),
        "-updated_at": ("-updated_at", "-id"),
    }
    default_sort = "-created_at"

    @extend_schema(
        tags=["orders"],
        summary="List orders",
        description="Orders in EPCC's shape, newest first, with EPCC's filter and paging.",
        # The item; the paginator wraps it in data, links and meta.
        responses={200: OrderDocumentSchema, **error_responses(400, 401, 403, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=["orders"],
        summary="Get an order",
        responses={200: OrderSingleSchema, **error_responses(401, 403, 404, 405, 429)},
    )
    def retrieve(self, request, *args, **kwargs):
        document = order_document(self.kwargs["pk"])
        if document is None:
            raise NotFound(ORDER_NOT_FOUND_DETAIL.format(id=self.kwargs["pk"]))
        return Response({"data": document})

    @extend_schema(
        tags=["orders"],
        summary="Anonymize orders",
        description=(
            "Masks the personal data of every order named, all of them or none. An order may be "
            "anonymized when fulfilled, cancelled or refunded and not under legal hold; one already "
            "anonymized is accepted and left as it is. Answers the orders in request order "
            "(a duplicated id is answered once). An unknown id is a 404 and a refused order a 422, "
            "one error entry per id; with both, the status is 404 and every problem is listed."
        ),
        request=OrderAnonymizeRequest,
        responses={
            200: OrderListSchema,
            **error_responses(400, 401, 403, 404, 405, 415, 422, 429),
        },
        examples=[
            OpenApiExample(
                "Anonymize one order",
                request_only=True,
                value={"data": {"order_ids": ["db21f851-ae44-4111-a175-ee2c6c257031"]}},
            ),
            OpenApiExample(
                "An order that may not be anonymized",
                response_only=True,
                status_codes=["422"],
                value={
                    "errors": [
                        {
                            "status": 422,
                            "title": "Could not anonymize orders",
                            "detail": "Order has status: order:complete, payment:paid, "
                            "shipping:unfulfilled; only fulfilled or refunded or cancelled orders "
                            "may be anonymized",
                            "meta": {"order_id": "0b508e02-d3de-4673-83ca-087875d06d8f"},
                        }
                    ]
                },
            ),
        ],
    )
    @action(detail=False, methods=["post"])
    def anonymize(self, request):
        # The masking statement itself writes the changed orders' documents.
        return anonymized_response(
            request,
            "order_ids",
            lambda ids, **how: orders_anonymize(order_ids=ids, **how),
            masked_documents(pushed=upstream_configured()),
            orders_epcc_json,
        )
