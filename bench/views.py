"""The baseline: a plain Django view running the usage list's query, no framework on top.

Same filter (promotion, code any case, used_on range), same order (-used_on, -id),
same page size and offset, the same count and the same EPCC document, built by a
plain Python function over model instances (as the product did before its
documents were written by PostgreSQL); no authentication, throttling, filter
parsing or EPCC links.
"""

from datetime import UTC, datetime

from django.http import JsonResponse

from epcc.pagination import EpccPagination
from promotions.models import CodeUsage, PromotionCode


def _timestamp(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond // 1000:03d}Z" if value.microsecond else f"{text}Z"


def _document(usage: CodeUsage) -> dict:
    document = {
        "id": str(usage.id),
        "order_id": str(usage.order_id) if usage.order_id else None,
        "code_id": str(usage.promotion_code_id),
        "code": usage.code,
        "times_used": usage.times_used,
        "used_on": _timestamp(usage.used_on),
    }
    if usage.customer_id:
        document["customer_id"] = str(usage.customer_id)
    document["customer_email"] = usage.customer_email
    document["meta"] = {"timestamps": {"updated_at": _timestamp(usage.updated_at)}}
    if usage.updated_by:
        document["updated_by"] = usage.updated_by
    document["anonymized"] = usage.anonymized
    if usage.account_id:
        document["account_id"] = str(usage.account_id)
    return document


def plain_code_usages(request, promotion_id, code):
    code_ids = list(
        PromotionCode.objects.filter(promotion_id=promotion_id).named(code).values_list("id", flat=True)
    )
    usages = CodeUsage.objects.filter(
        promotion_id=promotion_id,
        promotion_code_id__in=code_ids,
        used_on__gte=datetime.fromisoformat(request.GET["from"]),
        used_on__lt=datetime.fromisoformat(request.GET["to"]),
    ).order_by("-used_on", "-id")
    limit, offset = int(request.GET.get("limit", 100)), int(request.GET.get("offset", 0))
    total = EpccPagination().count_results(usages)
    data = [_document(usage) for usage in usages[offset : offset + limit]]
    return JsonResponse({"data": data, "meta": {"results": {"total": total}}})
