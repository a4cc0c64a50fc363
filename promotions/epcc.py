"""Code usages in EPCC's document shape (seeds 000 and 001)."""

from core.epcc import format_timestamp
from promotions.models import CodeUsage


def usage_to_epcc(usage: CodeUsage) -> dict:
    document = {
        "id": str(usage.id),
        "order_id": str(usage.order_id) if usage.order_id else None,
        "code_id": str(usage.promotion_code_id),
        "code": usage.code,
        "times_used": usage.times_used,
        "used_on": format_timestamp(usage.used_on),
    }
    if usage.customer_id:
        document["customer_id"] = str(usage.customer_id)
    document["customer_email"] = usage.customer_email
    document["meta"] = {"timestamps": {"updated_at": format_timestamp(usage.updated_at)}}
    if usage.updated_by:
        document["updated_by"] = usage.updated_by
    document["anonymized"] = usage.anonymized
    if usage.account_id:
        document["account_id"] = str(usage.account_id)
    return document
