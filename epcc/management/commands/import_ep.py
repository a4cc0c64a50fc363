"""python manage.py import_ep FILE... [--promotion UUID]

Loads EPCC JSON documents as EPCC's GET endpoints return them
(`{"data": [...]}` or `{"data": {...}}`): orders (`type: order`, items from
`relationships` or `included.items`) and promotion code usages. Upserts by id,
one transaction per file: a bad file loads nothing and is reported by file and
record; the other files still load; the exit status is non-zero if any failed.
"""

import json
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from epcc.importing.orders import InvalidRecord, included_items, order_from_epcc, orders_upsert
from epcc.importing.usages import usage_from_epcc, usages_upsert
from erasure.services import erasure_requests_attach_new_records

# Message templates; tests assert on them. None of them carries a personal value.
NOT_JSON = "not JSON ({error})"
NOT_A_DOCUMENT = 'not an EPCC document: expected an object with "data"'
DATA_NOT_RECORDS = '"data" must be an object or a list of objects'
NOT_AN_OBJECT = "not an object"
UNKNOWN_TYPE = 'unknown type "{type}" (expected "order" or a promotion code usage)'
DUPLICATE_ID = "id {id} appears twice in the file"
USAGES_NEED_PROMOTION = (
    "holds code usages but names no promotion: pass --promotion UUID "
    "(EPCC's usage objects do not name their promotion)"
)
USAGE_KEYS = frozenset({"code", "used_on"})


class FileRefused(Exception):
    def __init__(self, message: str, record: str | None = None):
        super().__init__(message)
        self.record = record


def record_label(index: int, document) -> str:
    label = f"data[{index}]"
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        label += f" (id {document['id'][:36]})"
    return label


def record_kind(document: dict) -> str:
    kind = document.get("type")
    if kind == "order":
        return "order"
    if kind in (None, "promotion_usage", "promotion_code_usage", "usage") and document.keys() >= USAGE_KEYS:
        return "usage"
    shown = kind if isinstance(kind, str) else "missing"
    raise InvalidRecord(UNKNOWN_TYPE.format(type=shown[:40]))


def load_file(path: Path, *, promotion_id: uuid.UUID | None) -> dict:
    """Read, check and upsert one file in one transaction; returns counts or raises FileRefused."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FileRefused(NOT_JSON.format(error=error)) from None
    if not isinstance(document, dict) or "data" not in document:
        raise FileRefused(NOT_A_DOCUMENT)
    records = document["data"]
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise FileRefused(DATA_NOT_RECORDS)

    try:
        items = included_items(document.get("included"))
    except InvalidRecord as error:
        raise FileRefused(str(error)) from None
    orders, usages, seen = [], [], set()
    for index, record in enumerate(records):
        label = record_label(index, record)
        try:
            if not isinstance(record, dict):
                raise InvalidRecord(NOT_AN_OBJECT)
            if record_kind(record) == "order":
                parsed = order_from_epcc(record, items=items)
                record_id = parsed.order.id
                orders.append(parsed)
            else:
                parsed = usage_from_epcc(record)
                record_id = parsed.usage.id
                usages.append(parsed)
            if record_id in seen:
                raise InvalidRecord(DUPLICATE_ID.format(id=record_id))
            seen.add(record_id)
            parsed.label = label
        except InvalidRecord as error:
            raise FileRefused(str(error), record=label) from None
    if usages and promotion_id is None:
        raise FileRefused(USAGES_NEED_PROMOTION)

    try:
        with transaction.atomic():
            order_result = orders_upsert(orders=orders)
            usage_result = usages_upsert(promotion_id=promotion_id, usages=usages) if usages else None
            # Records of a person with an open erasure request join it (and a job settles them).
            attached = erasure_requests_attach_new_records(
                order_ids=[p.order.id for p in orders], usage_ids=[p.usage.id for p in usages]
            )
    except InvalidRecord as error:
        raise FileRefused(str(error), record=error.record) from None
    counts = {
        "orders created": order_result.created,
        "orders updated": order_result.updated,
        "usages created": usage_result.created if usage_result else 0,
        "usages updated": usage_result.updated if usage_result else 0,
    }
    kept = order_result.kept_anonymized + (usage_result.kept_anonymized if usage_result else 0)
    if kept:
        counts["kept anonymized"] = kept
    if attached:
        counts["records added to open erasure requests"] = attached
    return counts


class Command(BaseCommand):
    help = (
        "Load EPCC JSON documents (orders, promotion code usages) as EPCC's GET endpoints "
        "return them. Upserts by id; one transaction per file; a bad file loads nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="EPCC JSON documents")
        parser.add_argument(
            "--promotion",
            metavar="UUID",
            help="the rule promotion the usages in these files belong to (created when missing)",
        )

    def handle(self, *args, files, promotion, **options):
        promotion_id = None
        if promotion:
            try:
                promotion_id = uuid.UUID(promotion)
            except ValueError:
                raise CommandError(f"--promotion: {promotion[:40]!r} is not a UUID") from None
        failed = 0
        for name in files:
            path = Path(name)
            try:
                if not path.is_file():
                    raise FileRefused("no such file")
                counts = load_file(path, promotion_id=promotion_id)
            except FileRefused as error:
                failed += 1
                where = f"{name}: {error.record}: " if error.record else f"{name}: "
                self.stderr.write(f"{where}{error} — nothing of this file was loaded.")
                continue
            summary = ", ".join(f"{value} {label}" for label, value in counts.items())
            self.stdout.write(f"{name}: {summary}.")
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) could not be loaded.")
