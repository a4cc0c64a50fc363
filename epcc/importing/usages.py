"""Code usages from EPCC documents (`import_ep`): reading one usage, and a set-based upsert.

EPCC's usage objects (seeds 000 and 001) do not name their promotion, so the
caller does (`--promotion UUID`); the promotion and its codes are created
when missing. The code's id (`code_id`) is its identity; a usage without one
is filed under the promotion's code of the same name (case-insensitive).

A usage already anonymized here stays anonymized: its customer_email stays
masked, only the rest follows the document. Messages never carry a personal value.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.batches import chunked
from epcc.importing.orders import (
    InvalidRecord,
    read_bool,
    read_int,
    read_text,
    read_timestamp,
    read_uuid,
)
from promotions.models import CodeUsage, Promotion, PromotionCode

CODE_IN_OTHER_PROMOTION = "code_id {id} belongs to another promotion"
CODE_RENAMED = 'code_id {id} is code "{known}" here, not "{given}"'
CODE_NAME_TAKEN = 'code "{code}" already exists in this promotion with another id'


@dataclass
class ParsedUsage:
    usage: CodeUsage
    code_id: uuid.UUID | None
    label: str = ""


def usage_from_epcc(document: dict) -> ParsedUsage:
    """One EPCC usage object as an unsaved row (promotion and code resolved on upsert)."""
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    timestamps = meta.get("timestamps") if isinstance(meta.get("timestamps"), dict) else {}
    used_on = read_timestamp(document.get("used_on"), "used_on", required=True)
    usage = CodeUsage(
        id=read_uuid(document.get("id"), "id", required=True),
        code=read_text(document.get("code"), "code", required=True),
        order_id=read_uuid(document.get("order_id"), "order_id"),
        times_used=read_int(document.get("times_used"), "times_used", default=1, minimum=0),
        used_on=used_on,
        customer_id=read_uuid(document.get("customer_id"), "customer_id"),
        customer_email=read_text(document.get("customer_email"), "customer_email"),
        account_id=read_uuid(document.get("account_id"), "account_id"),
        anonymized=read_bool(document.get("anonymized"), "anonymized"),
        updated_by=read_text(document.get("updated_by"), "updated_by", limit=64),
        updated_at=read_timestamp(timestamps.get("updated_at"), "meta.timestamps.updated_at") or used_on,
    )
    if not usage.code.strip():
        raise InvalidRecord("code must not be empty")
    return ParsedUsage(usage=usage, code_id=read_uuid(document.get("code_id"), "code_id"))


@dataclass
class UsageUpsertResult:
    created: int = 0
    updated: int = 0
    kept_anonymized: int = 0
    codes_created: int = 0
    promotion_created: bool = False


_USAGE_FIELDS = [f.name for f in CodeUsage._meta.concrete_fields if not f.primary_key]
# A usage anonymized here keeps its mask, and who anonymized it and when: a store that has not
# yet received the push (or names its own key) does not change them back.
_USAGE_FIELDS_KEPT_WHEN_ANONYMIZED = {"customer_email", "anonymized", "updated_by", "updated_at"}


def _resolve_codes(promotion: Promotion, usages: list[ParsedUsage]) -> int:
    """Point every usage at its PromotionCode, creating the missing ones; returns how many were made."""
    wanted_ids = {p.code_id for p in usages if p.code_id}
    known = {code.id: code for code in PromotionCode.objects.filter(pk__in=wanted_ids)}
    by_name = {
        code.code.lower(): code
        for code in PromotionCode.objects.filter(promotion=promotion).annotate(lower=Lower("code"))
    }
    new_codes: dict[uuid.UUID, PromotionCode] = {}
    for parsed in usages:
        name = parsed.usage.code.lower()
        code = (known.get(parsed.code_id) or new_codes.get(parsed.code_id)) if parsed.code_id else None
        if parsed.code_id and code is None:
            if name in by_name:
                raise InvalidRecord(CODE_NAME_TAKEN.format(code=parsed.usage.code), record=parsed.label)
            code = PromotionCode(id=parsed.code_id, promotion=promotion, code=parsed.usage.code)
            new_codes[code.id] = by_name[name] = code
        elif code is None:
            code = by_name.get(name)
            if code is None:
                code = PromotionCode(promotion=promotion, code=parsed.usage.code)
                new_codes[code.id] = by_name[name] = code
        if code.promotion_id != promotion.id:
            raise InvalidRecord(CODE_IN_OTHER_PROMOTION.format(id=code.id), record=parsed.label)
        if code.code.lower() != name:
            raise InvalidRecord(
                CODE_RENAMED.format(id=code.id, known=code.code, given=parsed.usage.code), record=parsed.label
            )
        parsed.usage.promotion_id = promotion.id
        parsed.usage.promotion_code_id = code.id
    PromotionCode.objects.bulk_create(new_codes.values())
    return len(new_codes)


def usages_upsert(*, promotion_id: uuid.UUID, usages: list[ParsedUsage]) -> UsageUpsertResult:
    """Create or update these usages (unique ids) of one promotion, all or none."""
    result = UsageUpsertResult()
    if not usages:
        return result
    with transaction.atomic():
        promotion, result.promotion_created = Promotion.objects.get_or_create(
            pk=promotion_id,
            defaults={"name": f"Imported promotion {promotion_id}", "created_at": timezone.now()},
        )
        result.codes_created = _resolve_codes(promotion, usages)
        existing = {}
        for chunk in chunked(sorted(p.usage.id for p in usages)):
            query = CodeUsage.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
            existing.update(query.values_list("pk", "anonymized"))
        full = [p.usage for p in usages if not existing.get(p.usage.id)]
        kept = [p.usage for p in usages if existing.get(p.usage.id)]
        result.created = len(usages) - len(existing)
        result.updated = len(existing)
        result.kept_anonymized = len(kept)
        CodeUsage.objects.bulk_create(
            full, update_conflicts=True, unique_fields=["id"], update_fields=_USAGE_FIELDS
        )
        CodeUsage.objects.bulk_create(
            kept,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[f for f in _USAGE_FIELDS if f not in _USAGE_FIELDS_KEPT_WHEN_ANONYMIZED],
        )
    return result
