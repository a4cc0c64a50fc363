"""The admin's "Anonymize selected ..." actions, in the shape of Django's `delete_selected`.

The first request renders a confirmation page built from the service's
review (what will be anonymized, what will not and why); the second one,
with `post=yes`, re-checks the permission, calls the anonymizing service,
reports counts with `message_user` and returns None, so the admin redirects
back to the change list. Orders and code usages share this one shape; each
admin describes its records with an `AnonymizationTarget`.

Select-across: the confirmation form posts `select_across=1` back to the
change list's own URL (filters and search in its query string), so Django
rebuilds the same queryset instead of the form carrying every id.

A large selection (select-across, or more than SUMMARY_THRESHOLD ticked ids)
is not reviewed record by record: its counts come from a few aggregate
queries over the queryset, built from the rule's own queryset form
(`AnonymizationTarget.counts`), and only the sampled rows the page lists
go through the service's review, so every reason shown is the service's
text. Confirming is the same for both: the service checks everything again
under lock and is the authority.

Confirming a selection larger than one chunk (JOBS_CHUNK_SIZE) starts a job
instead (docs/jobs.md): its ids are written as the job's chunks in SQL, the
answer is the job's progress page, and a worker anonymizes chunk by chunk,
with the audit records and admin history entries the request would have
written. Ticked rows are confirmed without the list's filters, and a
select-across must still count what the page counted: a record that changed
since the confirmation page is reported, never silently dropped.
"""

import functools
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import model_ngettext
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from psycopg import sql

from core.audit import Actor
from core.batches import Outcome, Review
from core.erasure_filing import erasure_filing, erasure_request_for_admin
from core.errors import BatchRefused, ConcurrentUpdate
from core.jobs import ChunkResult, job_start_for_queryset, jobs_chunk_size
from core.lookups import Ids
from core.models import ErasureRequest, Interface
from core.sql import column, columns, listed, table, typed_parameter

# Rows of each kind the confirmation page lists; the rest it counts.
SAMPLE_SIZE = 100

# Above this many selected ids, the confirmation page counts with aggregate
# queries instead of reviewing every record (which, for a select-all, took longer than a
# proxy waits; docs/performance.md).
SUMMARY_THRESHOLD = 1000

# Open erasure requests the confirmation page offers to file the anonymizations under.
ERASURE_REQUESTS_OFFERED = 200

# The admin history columns every entry of one anonymization shares.
SHARED_LOG_COLUMNS = ("action_time", "user", "content_type", "action_flag", "change_message")

REASON_LABELS = {
    "not_eligible": "Statuses do not allow it",
    "legal_hold": "Under legal hold",
    "not_found": "No longer exists",
}


@dataclass(frozen=True)
class SelectionCounts:
    """How a selection splits, as the confirmation page's summary shows it."""

    selected: int
    eligible: int
    already_anonymized: int
    # Problem code ("not_eligible", "legal_hold") -> how many it refuses.
    refused_by_reason: dict[str, int]

    @property
    def refused(self) -> int:
        return sum(self.refused_by_reason.values())


@dataclass(frozen=True)
class AnonymizationTarget:
    """What the shared action needs to know about one kind of record."""

    review: Callable[[list[uuid.UUID]], Review]
    # The part of a selection the service would change now ("eligible only"),
    # in the rule's queryset form, so that path needs no review of its own.
    eligible: Callable[[QuerySet], QuerySet]
    # The selection with a boolean `eligible` annotation, true where `eligible` selects
    # (a job's chunks are written from it in one pass; a test holds the two together).
    flag_eligible: Callable[[QuerySet], QuerySet]
    # A large selection's summary in a few aggregate queries, classified as
    # the review classifies (a test holds the two together).
    counts: Callable[[QuerySet], SelectionCounts]
    # (ids, actor, erasure request or None): the service, through the admin.
    anonymize: Callable[[list[uuid.UUID], Actor, ErasureRequest | None], Outcome]
    # The job kind (core/jobs.py) that anonymizes a selection larger than one chunk.
    job_kind: str
    # Non-personal columns the confirmation page shows beside each sampled id.
    sample_fields: tuple[str, ...]
    # Named in the admin history entry of each anonymized record.
    masked_fields: str
    # The audit records' record type ("order", "code_usage"), for the erasure request's items.
    record_type: str = ""


@dataclass
class ReviewedRow:
    pk: uuid.UUID
    columns: list
    note: str = ""


def summarize_fields(names: list[str]) -> str:
    """EPCC's dotted field names, compacted: "customer: name, email; shipping_address: 12 fields"."""
    groups: dict[str, list[str]] = {}
    for name in names:
        head, _, rest = name.partition(".")
        groups.setdefault(head, []).append(rest)
    parts = []
    for head, rests in groups.items():
        if not any(rests):
            parts.append(head)
        elif len(rests) > 3:
            parts.append(f"{head}: {len(rests)} fields")
        else:
            parts.append(f"{head}: {', '.join(rests)}")
    return "; ".join(parts) or "no personal value set"


def selected_ids(queryset) -> list[uuid.UUID]:
    """The selection's primary keys in the change list's order, in one query."""
    return list(queryset.values_list("pk", flat=True))


def anonymize_selected(modeladmin, request, queryset, target: AnonymizationTarget):
    """Confirm, then anonymize the selected records through the service (see module doc)."""
    history_repr_pattern(modeladmin.model)  # a model the history cannot name fails here, first
    filing_error = ""
    if request.POST.get("post"):
        if not modeladmin.has_anonymize_permission(request):
            raise PermissionDenied
        try:
            erasure_request, new = _erasure_request_posted(request)
        except ValueError as error:
            # The confirmation page again, saying what is missing; nothing changed.
            filing_error = str(error)
        else:
            response, done = None, False
            try:
                response, done = anonymize_confirmed(
                    modeladmin,
                    request,
                    confirmed_selection(modeladmin, request, queryset),
                    target,
                    replace(confirmation_of(request), erasure_request=erasure_request),
                )
            finally:
                if new and not done:
                    erasure_request.delete()  # a new request with nothing filed under it is no request
            return response
    return _review_page(modeladmin, request, queryset, target, filing_error)


def _review_page(modeladmin, request, queryset, target, filing_error: str = "") -> TemplateResponse:
    if _is_large(request):
        counts, ids, review = _summarized(queryset, target)
    else:
        ids = selected_ids(queryset)
        review = target.review(ids)
        counts = _counted(ids, review)
    response = _confirmation_page(modeladmin, request, counts, ids, review, target)
    response.context_data.update(_erasure_request_choice(request, filing_error))
    return response


def _erasure_request_posted(request):
    """The erasure request the confirmation page names (core/erasure_filing.py)."""
    return erasure_request_for_admin(
        request_id=request.POST.get("erasure_request", ""),
        reference=request.POST.get("erasure_reference", ""),
        actor=Actor.for_user(request.user),
    )


def _erasure_request_choice(request, error: str) -> dict:
    """The confirmation page's erasure request field: the open requests, what was chosen or typed."""
    return {
        "erasure_requests": ErasureRequest.objects.not_closed().order_by("-created_at")[
            :ERASURE_REQUESTS_OFFERED
        ],
        "erasure_request_chosen": request.POST.get("erasure_request", ""),
        "erasure_reference": request.POST.get("erasure_reference", ""),
        "erasure_request_error": error,
    }


def _is_large(request) -> bool:
    # Known without a query: select-across may be any size, so it is always summarized.
    return (
        request.POST.get("select_across") == "1"
        or len(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)) > SUMMARY_THRESHOLD
    )


def _counted(ids: list[uuid.UUID], review: Review) -> SelectionCounts:
    """A small selection's counts, from its full review."""
    return SelectionCounts(
        selected=len(ids),
        eligible=len(review.eligible),
        already_anonymized=len(review.already_anonymized),
        refused_by_reason=dict(Counter(problem.code for problem in review.problems.values())),
    )


def _summarized(queryset, target) -> tuple[SelectionCounts, list[uuid.UUID], Review]:
    """A large selection: counts in SQL, the review for the sampled rows only.

    The samples are the first SAMPLE_SIZE rows of each kind in the list's
    order; the review decides which table each sampled row goes in.
    """
    counts = target.counts(queryset)
    eligible = target.eligible(queryset)
    ids = selected_ids(eligible[:SAMPLE_SIZE]) if counts.eligible else []
    if counts.refused:
        refused = queryset.filter(anonymized=False).exclude(pk__in=eligible.values("pk"))
        ids += selected_ids(refused[:SAMPLE_SIZE])
    if counts.already_anonymized:
        ids += selected_ids(queryset.filter(anonymized=True)[:SAMPLE_SIZE])
    return counts, ids, target.review(ids)


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation form asked for, beyond the selection itself."""

    # "Anonymize the N eligible only": leave out what the service would refuse.
    eligible_only: bool = False
    # Files the audit records under this erasure request (passed through to the service).
    erasure_request: ErasureRequest | None = None
    # What the page counted: the selection must still have as many, as many of them eligible.
    selected_count: int | None = None
    eligible_count: int | None = None


def confirmation_of(request) -> Confirmation:
    """The confirmation form's fields, parsed; a field the page adds is read here."""
    return Confirmation(
        eligible_only=request.POST.get("eligible_only") == "yes",
        selected_count=_count_field(request, "selected_count"),
        eligible_count=_count_field(request, "eligible_count"),
    )


def _count_field(request, name: str) -> int | None:
    try:
        return int(request.POST[name])
    except (KeyError, ValueError):
        return None


def confirmed_selection(modeladmin, request, queryset) -> QuerySet:
    """The records the confirmation page showed.

    Ticked rows are taken by id from the admin's base queryset, without the
    list's filters: a ticked order that a filter no longer matches (a hold
    placed since, in a list filtered on "can be anonymized") stays in the
    selection, so the service refuses it and says why, instead of it
    silently dropping out. A select-across is the list's filtered queryset
    (the confirmation's count checks it did not change).
    """
    if request.POST.get("select_across") == "1":
        return queryset
    return modeladmin.get_queryset(request).filter(pk__in=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))


def anonymize_confirmed(modeladmin, request, selection, target, confirmation: Confirmation):
    """The confirmed selection: anonymized here, or as a job when larger than one chunk.

    Returns the response and whether anything was anonymized or a job
    started. The response is None (the admin goes back to the change list),
    the job's page, or, when something changed since the confirmation page,
    that page again for the same selection with the reason (nothing anonymized).
    """
    select_across = request.POST.get("select_across") == "1"
    if not select_across and len(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)) <= jobs_chunk_size():
        return _anonymize_here(modeladmin, request, selection, target, confirmation)
    if confirmation.selected_count is None or confirmation.eligible_count is None:
        # A form without the page's counts (a page older than them): counted now, one query.
        counts = target.counts(selection)
        confirmation = replace(
            confirmation,
            selected_count=counts.selected
            if confirmation.selected_count is None
            else confirmation.selected_count,
            eligible_count=counts.eligible
            if confirmation.eligible_count is None
            else confirmation.eligible_count,
        )
    if not select_across or confirmation.selected_count > jobs_chunk_size():
        return _anonymize_as_job(modeladmin, request, selection, target, confirmation)
    # A select-across of one chunk at most: here, if the list still has what the page counted.
    selected = selection.count()
    if selected != confirmation.selected_count:
        return _refused(
            modeladmin, request, selection, target, _selection_changed(modeladmin, confirmation, selected)
        ), False
    return _anonymize_here(modeladmin, request, selection, target, confirmation)


def _selection_changed(modeladmin, confirmation: Confirmation, selected: int) -> str:
    names = modeladmin.model._meta.verbose_name_plural
    lost = confirmation.selected_count - selected
    what = (
        f"{lost} of the selected {names} can no longer be anonymized or no longer match the list's filters"
        if lost > 0
        else f"{-lost} more {names} match the list's filters now"
    )
    return (
        f"Nothing was anonymized: {what} (the confirmation page counted {confirmation.selected_count}, "
        f"the list now has {selected}). Review the selection and try again."
    )


def _anonymize_here(modeladmin, request, selection, target, confirmation: Confirmation):
    """A selection of one chunk at most: the service, inside this request."""
    opts = modeladmin.model._meta
    left_out = 0
    if confirmation.eligible_only:
        # The eligible part only; the service checks every one of them again
        # under lock, so a change since the confirmation page still refuses.
        ids = selected_ids(target.eligible(selection))
        left_out = selection.count() - len(ids)
    else:
        ids = selected_ids(selection)
    if not ids:
        return _nothing_needed(modeladmin, request), False
    try:
        # Not inside a transaction of ours: the service is one transaction
        # itself and retries it when the database aborts it as a conflict.
        outcome = target.anonymize(ids, Actor.for_user(request.user), confirmation.erasure_request)
    except BatchRefused as refused:
        # Something changed since the confirmation page (a status, a new hold).
        first = str(refused.problems[0])
        return _refused(
            modeladmin,
            request,
            selection,
            target,
            f"Nothing was anonymized: {len(refused.problems)} of the selected "
            f"{opts.verbose_name_plural} can no longer be anonymized ({first}). "
            "Review the selection and try again.",
        ), False
    except ConcurrentUpdate as conflict:
        modeladmin.message_user(request, f"Nothing was anonymized: {conflict.detail}.", messages.ERROR)
        return None, False
    log_anonymization(request.user, modeladmin.model, target.masked_fields, outcome)
    file_under_request(confirmation.erasure_request, target.record_type, outcome)
    parts = [f"Anonymized {len(outcome.changed)} {model_ngettext(opts, len(outcome.changed))}."]
    if outcome.already_anonymized:
        parts.append(f"{len(outcome.already_anonymized)} were already anonymized.")
    if left_out:
        parts.append(f"{left_out} others (refused or already anonymized) were left as they were.")
    modeladmin.message_user(request, " ".join(parts), messages.SUCCESS)
    _filed_message(modeladmin, request, confirmation.erasure_request)
    return None, True


def _filed_message(modeladmin, request, erasure_request: ErasureRequest | None) -> None:
    if erasure_request is not None:
        modeladmin.message_user(
            request, f"Filed under erasure request “{erasure_request.reference}”.", messages.SUCCESS
        )


def _anonymize_as_job(modeladmin, request, selection, target, confirmation: Confirmation):
    """A selection larger than one chunk: its eligible ids written as a job's chunks in SQL; the job's page.

    One statement reads the selection once: it must still hold what the page
    counted, as many of them eligible, or nothing starts and the page comes
    back. With nothing refused when the page was shown (its "Yes, anonymize"),
    the same counts mean nothing is refused now (an anonymized record stays
    anonymized); with "eligible only", no more is left out than the page said.
    """
    opts = modeladmin.model._meta
    expected = (confirmation.selected_count, confirmation.eligible_count)
    started = job_start_for_queryset(
        kind=target.job_kind,
        actor=Actor.for_user(request.user),
        via=Interface.ADMIN,
        queryset=target.flag_eligible(selection),
        take="eligible",
        keep=lambda selected, taken: (selected, taken) == expected,
        params=anonymize_job_params(confirmation.erasure_request, admin_history=True),
    )
    if started.selected != confirmation.selected_count:
        return _refused(
            modeladmin,
            request,
            selection,
            target,
            _selection_changed(modeladmin, confirmation, started.selected),
        ), False
    if started.taken != confirmation.eligible_count:
        lost = confirmation.eligible_count - started.taken
        what = (
            f"{lost} of the selected {opts.verbose_name_plural} can no longer be anonymized"
            if lost > 0
            else f"{-lost} more of the selected {opts.verbose_name_plural} may be anonymized now"
        )
        return _refused(
            modeladmin,
            request,
            selection,
            target,
            f"Nothing was anonymized: {what} (the confirmation page counted {confirmation.eligible_count} "
            f"eligible, there are {started.taken} now). Review the selection and try again.",
        ), False
    job = started.job
    if job is None:
        return _nothing_needed(modeladmin, request), False
    parts = [
        f"Anonymizing {job.total:,} {model_ngettext(opts, job.total)} as a job, "
        f"{-(-job.total // job.chunk_size):,} chunks of up to {job.chunk_size:,}: "
        "this page shows its progress."
    ]
    left = started.selected - started.taken
    if left:
        parts.append(f"{left:,} others (refused or already anonymized) are left as they are.")
    modeladmin.message_user(request, " ".join(parts), messages.SUCCESS)
    _filed_message(modeladmin, request, confirmation.erasure_request)
    return HttpResponseRedirect(reverse("privacy:job", args=[job.pk])), True


def _nothing_needed(modeladmin, request) -> None:
    modeladmin.message_user(
        request,
        f"Nothing was anonymized: no selected {modeladmin.model._meta.verbose_name_plural} needed it.",
        messages.INFO,
    )


def _refused(modeladmin, request, selection, target, message: str) -> TemplateResponse:
    """Nothing changed: the confirmation page again, for the same selection as it is now, with why."""
    modeladmin.message_user(request, message, messages.ERROR)
    return _review_page(modeladmin, request, selection, target)


def anonymize_job_params(erasure_request: ErasureRequest | None, *, admin_history: bool) -> dict:
    """An anonymizing job's params (orders/jobs.py, promotions/jobs.py): ids and flags only."""
    return {
        "erasure_request": str(erasure_request.pk) if erasure_request else None,
        "admin_history": admin_history,
    }


def erasure_request_of(params: dict) -> ErasureRequest | None:
    pk = params.get("erasure_request")
    return ErasureRequest.objects.get(pk=pk) if pk else None


def file_under_request(erasure_request: ErasureRequest | None, record_type: str, outcome: Outcome) -> None:
    """Files the records as anonymized items of the erasure request (none: nothing to file)."""
    if erasure_request is not None:
        erasure_filing().record(
            erasure_request=erasure_request,
            record_type=record_type,
            record_ids=[*outcome.changed, *outcome.already_anonymized],
            batch_id=outcome.batch_id,
        )


def anonymized_chunk(
    outcome: Outcome, *, model, record_type: str, masked_fields: str, actor: Actor, params: dict
) -> ChunkResult:
    """A job chunk's result; with params' `admin_history`, its admin history entries too;
    with params' erasure request, the records filed under it."""
    if params.get("admin_history") and actor.user is not None:
        log_anonymization(actor.user, model, masked_fields, outcome)
    file_under_request(erasure_request_of(params), record_type, outcome)
    return ChunkResult(
        changed=len(outcome.changed), batch_id=outcome.batch_id, unchanged=len(outcome.already_anonymized)
    )


def log_anonymization(user, model, masked_fields: str, outcome: Outcome) -> None:
    """One admin history entry per changed record, in one statement.

    The message names the fields, never a value, and the audit batch that
    lists each record's changed fields exactly. The object's repr is built
    from its id alone (the models' `__str__` name ids, see
    history_repr_pattern), so nothing personal is read or written for it.
    """
    if not outcome.changed:
        return
    prefix, suffix = history_repr_pattern(model)
    with connection.cursor() as cursor:
        cursor.execute(
            _log_entries_insert_sql(),
            {
                "action_time": timezone.now(),
                "user": user.pk,
                "content_type": ContentType.objects.get_for_model(model).pk,
                "action_flag": CHANGE,
                "change_message": (
                    f"Anonymized (audit batch {outcome.batch_id}): {masked_fields} masked where set."
                ),
                "repr_prefix": prefix,
                "repr_suffix": suffix,
                "object_ids": Ids(outcome.changed).array_literal(),
            },
        )


def history_repr_pattern(model) -> tuple[str, str]:
    """(prefix, suffix): a record's `str()` is prefix + its id + suffix, whatever the id.

    Found by probing `__str__` with two ids, so the database writes each
    history entry's repr itself. A model whose `str()` shows anything else
    cannot be anonymized from the admin: ImproperlyConfigured, raised before
    anything changes (anonymize_selected asks first).
    """
    instance = model()
    found = set()
    for probe in (uuid.UUID(int=1), uuid.UUID(int=2)):
        instance.pk = probe
        parts = tuple(str(instance).split(str(probe)))
        found.add(parts if len(parts) == 2 else None)
    if len(found) != 1 or None in found:
        raise ImproperlyConfigured(
            f"{model.__name__}.__str__ must show the record's id and nothing else that varies "
            "(the admin history of an anonymization names each record by its id alone)."
        )
    return found.pop()


# One admin history entry per id, in the ids' order; the database writes each
# entry's repr from the id. 100,000 LogEntry instances and a VALUES list of
# 700,000 parameters cost Python seconds, and so did two text arrays of
# 100,000 elements (psycopg dumps each element in Python); the ids as one
# uuid[] parameter cost next to nothing.
LOG_ENTRIES_INSERT = """
INSERT INTO {log_entry} ({shared_columns}, {object_id}, {object_repr})
SELECT {shared_values},
    changed.id::text,
    left(%(repr_prefix)s || changed.id::text || %(repr_suffix)s, {repr_length})
FROM unnest(%(object_ids)s::uuid[]) WITH ORDINALITY AS changed(id, number)
ORDER BY changed.number
"""


@functools.cache
def _log_entries_insert_sql() -> str:
    """LOG_ENTRIES_INSERT with LogEntry's table and columns, from its _meta."""

    return (
        sql.SQL(LOG_ENTRIES_INSERT)
        .format(
            log_entry=table(LogEntry),
            shared_columns=listed(columns(LogEntry, SHARED_LOG_COLUMNS)),
            object_id=column(LogEntry, "object_id"),
            object_repr=column(LogEntry, "object_repr"),
            shared_values=listed(typed_parameter(LogEntry, name) for name in SHARED_LOG_COLUMNS),
            repr_length=sql.Literal(LogEntry._meta.get_field("object_repr").max_length),
        )
        .as_string()
    )


def _sample(model, target, pks: list[uuid.UUID], notes: dict | None = None) -> list[ReviewedRow]:
    pks = pks[:SAMPLE_SIZE]
    values = {
        row[0]: list(row[1:])
        for row in model._default_manager.filter(pk__in=pks).values_list("pk", *target.sample_fields)
    }
    notes = notes or {}
    return [ReviewedRow(pk=pk, columns=values.get(pk, []), note=notes.get(pk, "")) for pk in pks]


def _confirmation_page(modeladmin, request, counts: SelectionCounts, ids, review, target) -> TemplateResponse:
    """The page; `ids` are the selection's ids (or its samples) in the list's order."""
    opts = modeladmin.model._meta
    # The review works in primary-key order; the page follows the list's order.
    eligible = [pk for pk in ids if pk in review.eligible]
    already = set(review.already_anonymized)
    already = [pk for pk in ids if pk in already]
    refused = [pk for pk in ids if pk in review.problems]
    reasons = Counter(counts.refused_by_reason)
    model = modeladmin.model
    eligible_rows = _sample(
        model,
        target,
        eligible,
        {pk: summarize_fields(review.eligible[pk]) for pk in eligible},
    )
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Anonymize selected {opts.verbose_name_plural}",
        "subtitle": None,
        "opts": opts,
        "objects_name": str(opts.verbose_name_plural),
        "eligible_name": str(model_ngettext(opts, counts.eligible)),
        "action_name": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across") == "1",
        "selected_count": counts.selected,
        "eligible_count": counts.eligible,
        "already_count": counts.already_anonymized,
        "refused_count": counts.refused,
        "refused_by_reason": [
            (REASON_LABELS.get(code, code), count) for code, count in reasons.most_common() if count
        ],
        "sample_size": SAMPLE_SIZE,
        "sample_headers": [opts.get_field(name).verbose_name for name in target.sample_fields],
        "eligible_rows": eligible_rows,
        "refused_rows": _sample(model, target, refused, {pk: str(review.problems[pk]) for pk in refused}),
        "already_rows": _sample(model, target, already),
        "changelist_url": request.get_full_path(),
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request,
        [
            f"admin/{opts.app_label}/{opts.model_name}/anonymize_selected_confirmation.html",
            "admin/anonymize_selected_confirmation.html",
        ],
        context,
    )
