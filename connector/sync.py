"""sync_ep's work: pull orders and code usages from the EPCC store into this back-office.

Orders are read oldest change first (`sort=updated_at`), a page at a time, each
page asked for as `filter=ge(updated_at,<watermark>)` from the orders already
read at exactly that time (`page[offset]` = those ties): EPCC caps
`page[offset]` at 10,000, and a walk by offset alone would also skip an order
whenever one before it changed meanwhile. Each page is upserted, with its new
watermark, in one transaction: a run stopped anywhere resumes at the page after
the last it finished, and the next run reads only what changed since.

Usages carry no change time EPCC filters on, so every run walks every
promotion's codes and their usage lists (by `used_on`, in the same windows);
the promotions a stopped run finished are skipped when it resumes.

Records come in through import_ep's upsert (epcc.importing): a record
anonymized here keeps its masked values and `anonymized: true` whatever the
store still says (its push may not have landed yet).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from connector.client import StoreClient, StoreError, path_segment
from connector.models import SyncState
from epcc.importing.orders import InvalidRecord, included_items, order_from_epcc, orders_upsert
from epcc.importing.usages import usage_from_epcc, usages_upsert
from promotions.models import Promotion

PAGE_LIMIT = 100  # EPCC's largest page
MAX_OFFSET = 10000  # EPCC's cap on page[offset]
ORDERS, USAGES = "orders", "usages"

BAD_RECORD = "the store's {what} {label} cannot be loaded: {error}; nothing of its page was loaded"
TOO_MANY_TIES = (
    "more than {limit} orders share updated_at {at}: the sync skips past them; "
    "run sync_ep --full to read them all"
)


class SyncError(Exception):
    """The store sent something that cannot be loaded; names the record, never a personal value."""


@dataclass
class SyncResult:
    orders_created: int = 0
    orders_updated: int = 0
    usages_created: int = 0
    usages_updated: int = 0
    kept_anonymized: int = 0
    promotions: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return self.orders_created + self.orders_updated

    @property
    def usages(self) -> int:
        return self.usages_created + self.usages_updated


@dataclass
class Progress:
    """What a run reports as it goes (the command's progress bars): totals when known, then counts."""

    total: Callable[[str, int | None], None] = lambda what, total: None
    advance: Callable[[str, int], None] = lambda what, count: None


def stamp(moment: datetime) -> str:
    """A filter value EPCC reads: ISO 8601 in UTC with milliseconds (its documents' precision)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sync_run(*, client: StoreClient, full: bool = False, progress: Progress | None = None) -> SyncResult:
    """Pull orders, then usages, from the store; `full` starts over from the first order."""
    progress = progress or Progress()
    result = SyncResult()
    if full:
        SyncState.objects.filter(key__in=[ORDERS, USAGES]).delete()
    try:
        _sync_orders(client, result, progress)
        _sync_usages(client, result, progress)
    except (StoreError, SyncError) as error:
        # What the admin's sync states show; names ids and statuses, never a secret or a value.
        SyncState.objects.filter(key__in=[ORDERS, USAGES]).update(last_error=str(error)[:1000])
        raise
    return result


def _state(key: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(key=key)
    return state


def _sync_orders(client: StoreClient, result: SyncResult, progress: Progress) -> None:
    state = _state(ORDERS)
    first = True
    while True:
        params = {"sort": "updated_at", "page[limit]": PAGE_LIMIT, "page[offset]": state.ties}
        if state.watermark is not None:
            params["filter"] = f"ge(updated_at,{stamp(state.watermark)})"
            if state.ties > MAX_OFFSET:
                result.warnings.append(TOO_MANY_TIES.format(limit=MAX_OFFSET, at=stamp(state.watermark)))
                params["filter"] = f"gt(updated_at,{stamp(state.watermark)})"
                params["page[offset]"] = 0
        page = client.get("/v2/orders", params)
        documents = page.get("data") or []
        if first:
            progress.total(ORDERS, _results_total(page))
            first = False
        if not documents:
            break
        _load_orders_page(page, documents, state, result)
        progress.advance(ORDERS, len(documents))
        if len(documents) < PAGE_LIMIT:
            break
    SyncState.objects.filter(pk=state.pk).update(last_run_at=timezone.now(), last_error="")


def _load_orders_page(page: dict, documents: list, state: SyncState, result: SyncResult) -> None:
    """Upsert one page of orders and move the watermark past it, in one transaction."""
    parsed, label = [], "included"
    try:
        items = included_items(page.get("included"))
        for index, document in enumerate(documents):
            label = _label(index, document)
            if not isinstance(document, dict):
                raise InvalidRecord("not an object")
            parsed.append(order_from_epcc(document, items=items))
            parsed[-1].label = label
    except InvalidRecord as error:
        raise SyncError(BAD_RECORD.format(what="order", label=label, error=error)) from None
    # The watermark is the store's time of the page's last order (sorted by it), read before
    # the upsert keeps a later local time on orders anonymized here.
    times = [p.order.updated_at for p in parsed]
    last = times[-1]
    ties = sum(1 for t in times if t == last)
    if last == state.watermark:
        ties += state.ties
    with transaction.atomic():
        upserted = orders_upsert(orders=_unique_orders(parsed))
        state.watermark, state.ties, state.updated_at = last, ties, timezone.now()
        state.save(update_fields=["watermark", "ties", "updated_at"])
    result.orders_created += upserted.created
    result.orders_updated += upserted.updated
    result.kept_anonymized += upserted.kept_anonymized


def _unique_orders(parsed: list) -> list:
    # A page never repeats an order; should a store do so, the later copy wins.
    return list({p.order.id: p for p in parsed}.values())


def _label(index: int, document) -> str:
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        return document["id"][:36]
    return f"#{index}"


def _results_total(page: dict) -> int | None:
    try:
        return int(page["meta"]["results"]["total"])
    except (KeyError, TypeError, ValueError):
        return None


def _pages(client: StoreClient, path: str, params: dict | None = None):
    """Every document of a list, by offset (lists far shorter than EPCC's cap: promotions, codes)."""
    offset = 0
    while True:
        page = client.get(path, {**(params or {}), "page[limit]": PAGE_LIMIT, "page[offset]": offset})
        documents = page.get("data") or []
        yield from documents
        offset += len(documents)
        if len(documents) < PAGE_LIMIT or offset > MAX_OFFSET:
            return


def _sync_usages(client: StoreClient, result: SyncResult, progress: Progress) -> None:
    state = _state(USAGES)
    done = set(state.cursor.get("promotions_done", []))
    progress.total(USAGES, None)
    for promotion in _pages(client, "/v2/rule-promotions"):
        promotion_id = promotion.get("id") if isinstance(promotion, dict) else None
        if not isinstance(promotion_id, str) or promotion_id in done:
            continue
        _promotion_upsert(promotion)
        for code in _pages(client, f"/v2/rule-promotions/{promotion_id}/codes"):
            if isinstance(code, dict) and isinstance(code.get("code"), str):
                _sync_code_usages(client, promotion_id, code["code"], result, progress)
        done.add(promotion_id)
        result.promotions += 1
        state.cursor = {"promotions_done": sorted(done)}
        state.save(update_fields=["cursor"])
    # A run that ends walks every promotion again next time.
    SyncState.objects.filter(pk=state.pk).update(cursor={}, last_run_at=timezone.now(), last_error="")


def _promotion_upsert(document: dict) -> None:
    name = document.get("name")
    defaults = {"name": name[:255]} if isinstance(name, str) and name else {}
    try:
        Promotion.objects.update_or_create(
            pk=document["id"],
            defaults=defaults,
            create_defaults={"name": defaults.get("name") or f"Imported promotion {document['id']}"},
        )
    except Exception as error:  # a malformed id
        raise SyncError(f"the store's rule promotion {document['id'][:36]} cannot be loaded") from error


def _sync_code_usages(client, promotion_id: str, code: str, result: SyncResult, progress: Progress) -> None:
    """One code's usages, oldest first, in windows of used_on (as orders by updated_at)."""
    path = f"/v2/rule-promotions/{promotion_id}/codes/{path_segment(code)}/usages"
    watermark, ties = None, 0
    while True:
        params = {"sort": "used_on", "page[limit]": PAGE_LIMIT, "page[offset]": min(ties, MAX_OFFSET)}
        if watermark is not None:
            params["filter"] = f"ge(used_on,{stamp(watermark)})"
        documents = client.get(path, params).get("data") or []
        if not documents:
            return
        parsed = []
        try:
            for index, document in enumerate(documents):
                label = _label(index, document)
                if not isinstance(document, dict):
                    raise InvalidRecord("not an object")
                parsed.append(usage_from_epcc(document))
                parsed[-1].label = label
            with transaction.atomic():
                upserted = usages_upsert(
                    promotion_id=uuid.UUID(promotion_id),
                    usages=list({p.usage.id: p for p in parsed}.values()),
                )
        except InvalidRecord as error:
            where = error.record or label
            raise SyncError(BAD_RECORD.format(what="code usage", label=where, error=error)) from None
        result.usages_created += upserted.created
        result.usages_updated += upserted.updated
        result.kept_anonymized += upserted.kept_anonymized
        progress.advance(USAGES, len(documents))
        if len(documents) < PAGE_LIMIT:
            return
        last = parsed[-1].usage.used_on
        ties = sum(1 for p in parsed if p.usage.used_on == last) + (ties if last == watermark else 0)
        watermark = last
        if ties > MAX_OFFSET:
            result.warnings.append(f"more than {MAX_OFFSET} usages of one code share used_on {stamp(last)}")
            return
