"""The baseline: a plain Django view running the usage list's query, no framework on top.

Same filter (promotion, code any case, used_on range), same order (-used_on, -id),
same page size and offset, the same count and the same EPCC documents (the page
query writes them, promotions.epcc_sql); no authentication, throttling, filter
parsing or EPCC links.
"""

import json
from datetime import datetime

from django.http import HttpResponse

from core.pagination import EpccPagination
from promotions.epcc_sql import usage_documents
from promotions.models import CodeUsage, PromotionCode


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
    documents = usage_documents(usages)[offset : offset + limit]
    meta = json.dumps({"results": {"total": total}})
    body = '{"data":[' + ",".join(documents) + '],"meta":' + meta + "}"
    return HttpResponse(body.encode(), content_type="application/json")
