"""The rule promotion endpoints of the EPCC-compatible API: what a connector reads to find
the usage lists (GET /v2/rule-promotions, GET /v2/rule-promotions/{id}/codes)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from epcc.documents.promotions import codes_epcc_json, page_documents, promotions_epcc_json
from epcc.schema import error_responses, inline_serializer, serializer_class
from epcc.usages import PROMOTION_NOT_FOUND_DETAIL
from epcc.views import EpccViewSet
from promotions.models import Promotion, PromotionCode


def _timestamps(name: str, *fields: str):
    return inline_serializer(
        name=name,
        fields={
            "timestamps": inline_serializer(
                name=f"{name}Timestamps", fields={field: serializers.DateTimeField() for field in fields}
            )
        },
    )


RulePromotionSchema = serializer_class(
    "RulePromotion",
    {
        "type": serializers.ChoiceField(choices=["rule_promotion"]),
        "id": serializers.UUIDField(),
        "name": serializers.CharField(),
        "meta": _timestamps("RulePromotionMeta", "created_at", "updated_at"),
    },
)
PromotionCodeSchema = serializer_class(
    "PromotionCode",
    {
        "type": serializers.ChoiceField(choices=["promotion_code"]),
        "id": serializers.UUIDField(),
        "code": serializers.CharField(),
        "meta": _timestamps("PromotionCodeMeta", "created_at"),
    },
)


class UnfilteredListViewSet(EpccViewSet):
    """A list EPCC's `filter` names no field of (any filter is a 400), sorted and paged."""

    documents_of = staticmethod(page_documents)
    filter_fields: dict = {}
    filter_example = ""


class RulePromotionViewSet(UnfilteredListViewSet):
    """Every rule promotion, oldest first."""

    queryset = Promotion.objects.all()
    documents_json = staticmethod(promotions_epcc_json)
    required_permissions = {"list": ["promotions.view_promotion"]}
    sorts = {"created_at": ("created_at", "id"), "-created_at": ("-created_at", "-id")}
    default_sort = "created_at"

    @extend_schema(
        tags=["rule promotions"],
        summary="List rule promotions",
        description="Rule promotions in EPCC's shape (name, timestamps), oldest first, EPCC's paging.",
        responses={200: RulePromotionSchema, **error_responses(400, 401, 403, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class PromotionCodeViewSet(UnfilteredListViewSet):
    """The codes of one rule promotion, by code; an unknown promotion is a 404."""

    queryset = PromotionCode.objects.all()
    documents_json = staticmethod(codes_epcc_json)
    required_permissions = {"list": ["promotions.view_promotioncode"]}
    sorts = {"code": ("code", "id"), "-code": ("-code", "-id")}
    default_sort = "code"

    def get_queryset(self):
        promotion_id = self.kwargs["promotion_id"]
        if not Promotion.objects.filter(pk=promotion_id).exists():
            raise NotFound(PROMOTION_NOT_FOUND_DETAIL.format(id=promotion_id))
        return PromotionCode.objects.filter(promotion_id=promotion_id)

    @extend_schema(
        tags=["rule promotions"],
        summary="List a rule promotion's codes",
        description="The promotion's codes in EPCC's shape, by code, with EPCC's paging.",
        responses={200: PromotionCodeSchema, **error_responses(400, 401, 403, 404, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
