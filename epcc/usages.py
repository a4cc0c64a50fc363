"""The promotion code usage endpoints of the EPCC-compatible API.

GET /v2/rule-promotions/{promotion_id}/usages,
GET /v2/rule-promotions/{promotion_id}/codes/{code}/usages,
POST /v2/rule-promotions/usages/anonymize (and its alias /v2/promotions/usages/anonymize).
"""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from epcc.documents.usages import usage_document, usage_documents, usages_epcc_json
from epcc.schema import (
    batch_request_serializer,
    error_responses,
    inline_serializer,
    serializer_class,
    upstream_serializer,
)
from epcc.usage_filters import USAGE_FILTER_FIELDS, CodeUsageFilterSet
from epcc.views import EpccViewSet, anonymized_response
from promotions.models import CodeUsage, Promotion, PromotionCode
from promotions.services import usages_anonymize

PROMOTION_NOT_FOUND_DETAIL = "No rule promotion found with id {id}"


UsageDocumentSchema = serializer_class(
    "CodeUsage",
    {
        "id": serializers.UUIDField(),
        "order_id": serializers.UUIDField(allow_null=True),
        "code_id": serializers.UUIDField(),
        "code": serializers.CharField(),
        "times_used": serializers.IntegerField(),
        "used_on": serializers.DateTimeField(),
        "customer_id": serializers.UUIDField(required=False),
        "customer_email": serializers.CharField(allow_null=True, allow_blank=True),
        "meta": inline_serializer(
            name="CodeUsageMeta",
            fields={
                "timestamps": inline_serializer(
                    name="CodeUsageTimestamps", fields={"updated_at": serializers.DateTimeField()}
                ),
                "upstream": upstream_serializer(),
            },
        ),
        "updated_by": serializers.CharField(required=False, help_text="Who anonymized it, e.g. Key-<id>."),
        "anonymized": serializers.BooleanField(),
        "account_id": serializers.UUIDField(required=False),
    },
)
UsageAnonymizeRequest = batch_request_serializer("UsageAnonymizeRequest", "usage_ids", "code usages")
UsageListSchema = serializer_class("CodeUsageDocuments", {"data": UsageDocumentSchema(many=True)})


class CodeUsageViewSet(EpccViewSet):
    """Usages of one promotion (every code) or of one code of it (`code` in the path)."""

    queryset = CodeUsage.objects.all()
    documents_json = staticmethod(usages_epcc_json)
    documents_of = staticmethod(usage_documents)
    required_permissions = {
        "list": ["promotions.view_codeusage"],
        "anonymize": ["promotions.anonymize_codeusage"],
    }
    filterset_class = CodeUsageFilterSet
    filter_fields = USAGE_FILTER_FIELDS
    filter_example = "ge(used_on,2024-08-01):lt(used_on,2024-09-01)"
    # Ties break on id; both directions ride the (promotion[, promotion_code], used_on, id) indexes.
    sorts = {"used_on": ("used_on", "id"), "-used_on": ("-used_on", "-id")}
    default_sort = "used_on"

    def get_filterset_kwargs(self):
        return {"promotion_id": self.kwargs.get("promotion_id")}

    def get_queryset(self):
        if self.action != "list":
            return CodeUsage.objects.none()
        promotion_id = self.kwargs["promotion_id"]
        usages = CodeUsage.objects.filter(promotion_id=promotion_id)
        code = self.kwargs.get("code")
        if code is None:
            self._promotion_must_exist(promotion_id)
            return usages
        # The code's id first (names are case-insensitive, unique per promotion), so the
        # query filters on promotion_code_id and the usage indexes serve it. A code found
        # proves its promotion exists: one query on the usual path.
        code_ids = list(
            PromotionCode.objects.filter(promotion_id=promotion_id).named(code).values_list("id", flat=True)
        )
        if not code_ids:
            self._promotion_must_exist(promotion_id)
            return usages.none()
        return usages.filter(promotion_code_id__in=code_ids)

    @staticmethod
    def _promotion_must_exist(promotion_id) -> None:
        if not Promotion.objects.filter(pk=promotion_id).exists():
            raise NotFound(PROMOTION_NOT_FOUND_DETAIL.format(id=promotion_id))

    @extend_schema(
        tags=["promotion code usages"],
        summary="List code usages",
        description=(
            "Usages of a rule promotion's codes (or of one code, any case), oldest first by "
            "default, with EPCC's filter, paging and sort. An unknown promotion is a 404; a code "
            "without usages is an empty list."
        ),
        # The item; the paginator wraps it in data, links and meta.
        responses={200: UsageDocumentSchema, **error_responses(400, 401, 403, 404, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=["promotion code usages"],
        summary="Anonymize promotion code usages",
        description=(
            "Masks customer_email of every usage named, all of them or none; `updated_by` names "
            "the API key (Key-<id>). A usage already anonymized is accepted and left as it is; a "
            "duplicated id is answered once. Unknown ids are a 404, one error entry per id."
        ),
        request=UsageAnonymizeRequest,
        responses={200: UsageListSchema, **error_responses(400, 401, 403, 404, 405, 415, 429)},
        examples=[
            OpenApiExample(
                "Anonymize one usage",
                request_only=True,
                value={"data": {"usage_ids": ["333ad446-8611-435a-97e4-0d1aa970e6c7"]}},
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def anonymize(self, request):
        # The masking UPDATE itself writes the changed usages' documents.
        return anonymized_response(
            request,
            "usage_ids",
            lambda ids, **how: usages_anonymize(usage_ids=ids, **how),
            usage_document(),
            usages_epcc_json,
        )
