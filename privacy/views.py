"""The privacy officer's pages: parse input, call one service or selector, render.

Every page needs the view permissions on orders and code usages; erasing
needs both anonymize permissions, legal holds their own. The rules live in
the services: these views never decide who may be anonymized.
"""

import json
import uuid
from dataclasses import asdict
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views import View
from django.views.generic import ListView, TemplateView

from core.audit import Actor
from core.jobs import job_cancel, job_kind_label, job_progress, job_retry
from core.models import ERASURE_DUE_MONTHS, ErasureRequest, Interface, Job, JobStatus, RecordType, add_months
from core.upstream import upstream_states
from epcc.usage_filters import CodeUsageFilterSet
from erasure.models import ErasureRequestItem
from erasure.selectors import (
    due_mark,
    erasure_request_counts,
    erasure_request_items,
    erasure_request_jobs,
    erasure_request_next_step,
    erasure_request_receipt,
    erasure_request_upstream,
    erasure_requests,
)
from erasure.services import (
    RequestExists,
    erasure_request_cancel,
    erasure_request_create,
    erasure_request_extend,
    erasure_request_item_exclude,
    erasure_request_reject,
)
from erasure.subjects import subject_of_query
from orders.models import LegalHold, Order
from orders.services import legal_hold_place, legal_hold_release
from privacy.charts import chart_geometry
from privacy.forms import (
    AuditFilterForm,
    ErasureStartForm,
    ItemExcludeForm,
    JobFilterForm,
    LegalHoldForm,
    LegalHoldReleaseForm,
    PersonSearchForm,
    RequestCancelForm,
    RequestCloseForm,
    RequestExtendForm,
    RequestFilterForm,
    UsageFilterForm,
)
from privacy.selectors import (
    activity_chart,
    audit_records,
    dashboard,
    job_counts,
    jobs,
    legal_holds_in_force,
    order_with_holds,
    person_export,
    person_records,
    person_report,
    recent_activity,
)
from promotions.models import CodeUsage

VIEW_PERMISSIONS = ("orders.view_order", "promotions.view_codeusage")
ERASE_PERMISSIONS = VIEW_PERMISSIONS + ("orders.anonymize_order", "promotions.anonymize_codeusage")
HOLD_PLACE_PERMISSIONS = VIEW_PERMISSIONS + ("orders.add_legalhold",)
HOLD_RELEASE_PERMISSIONS = VIEW_PERMISSIONS + ("orders.change_legalhold",)


JOB_CANCELLED = "The job is cancelled."
JOB_CANCEL_REQUESTED = "Cancel requested: the job stops before its next chunk."
JOB_ALREADY_ENDED = "The job had already ended; nothing to cancel."
JOB_RETRIED = "The job is queued again; it resumes at its first chunk not done."


REQUEST_STARTED = "Erasure request “{reference}” is started: the records are being handled."
REQUEST_ALREADY_STARTED = "This erasure request was already started; here it is."


class PrivacyPageMixin(PermissionRequiredMixin):
    """Anonymous visitors go to the login page; signed-in users without the permission get a 403 page."""

    permission_required = VIEW_PERMISSIONS

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        # These pages show personal data: no browser or proxy should keep a copy.
        add_never_cache_headers(response)
        return response

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            return render(self.request, "privacy/forbidden.html", status=403)
        return super().handle_no_permission()


class ForgivingPaginationMixin:
    """A page number past the end (a stale link, a shorter filtered list) or not a number shows
    the nearest page instead of a 404: the officer keeps the filters they typed."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=self.get_allow_empty())
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


class FilteredListMixin(ForgivingPaginationMixin):
    """A list narrowed by a filter form: `select(**cleaned_data)` is its selector; a bad filter
    shows the form's errors over an empty list; the pages keep the filters (`query`)."""

    filter_form_class = None

    def select(self, **filters):
        raise NotImplementedError

    def get_queryset(self):
        self.filter_form = self.filter_form_class(self.request.GET or None)
        if self.filter_form.is_bound and not self.filter_form.is_valid():
            return self.select().none()
        return self.select(**(self.filter_form.cleaned_data if self.filter_form.is_bound else {}))

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filter_form=self.filter_form, query=query.urlencode(), **kwargs)


class DropEmptyParametersMixin:
    """A GET form sends its empty fields too (`?code=&email=...`): answer with the same list at
    the URL without them, so addresses stay short, readable and shareable."""

    def get(self, request, *args, **kwargs):
        kept = QueryDict(mutable=True)
        for name, values in request.GET.lists():
            if filled := [value for value in values if value != ""]:
                kept.setlist(name, filled)
        if kept != request.GET:
            return redirect(f"{request.path}?{kept.urlencode()}" if kept else request.path)
        return super().get(request, *args, **kwargs)


class DashboardView(PrivacyPageMixin, TemplateView):
    template_name = "privacy/dashboard.html"

    def get_context_data(self, **kwargs):
        figures = dashboard()
        weeks = activity_chart(live_backlog=figures.waiting)
        return super().get_context_data(
            dashboard=figures,
            job_counts=job_counts(),
            request_counts=erasure_request_counts(),
            search_form=PersonSearchForm(),
            activity=recent_activity(),
            chart=chart_geometry(weeks),
            chart_data=weeks,
            **kwargs,
        )


def _search_context(request, person, start_form=None, search=None) -> dict:
    can_erase = request.user.has_perms(ERASE_PERMISSIONS)
    if start_form is None and person is not None and person.subject is not None and can_erase:
        start_form = ErasureStartForm(initial={"q": person.query})
    return {
        "search_form": search or PersonSearchForm(initial={"q": person.query} if person else None),
        "person": person,
        "start_form": start_form,
        "can_erase": can_erase,
    }


class PersonSearchView(PrivacyPageMixin, View):
    """Find a person: one box; everything held about them, and an erasure request to start."""

    def get(self, request):
        form = PersonSearchForm(request.GET or None)
        person = person_records(form.cleaned_data["q"]) if form.is_valid() else None
        context = _search_context(request, person)
        context["search_form"] = form if form.is_bound else context["search_form"]
        return render(request, "privacy/search.html", context)


class PersonExportView(PrivacyPageMixin, View):
    """Everything held about the person as a JSON download, in EPCC's shapes."""

    def get(self, request):
        form = PersonSearchForm(request.GET)
        if not form.is_valid():
            return redirect("privacy:search")
        data = person_export(form.cleaned_data["q"])
        document = {
            "data": data,
            "meta": {
                "exported_at": timezone.now(),
                "results": {"orders": len(data["orders"]), "usages": len(data["usages"])},
            },
        }
        response = HttpResponse(
            json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        # The file name carries a date, never the search key (which may be an email).
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="personal-data-{stamp}.json"'
        return response


class PersonReportView(PrivacyPageMixin, View):
    """Everything held about the person as a readable, printable page: the JSON export's companion."""

    def get(self, request):
        form = PersonSearchForm(request.GET)
        if not form.is_valid():
            return redirect("privacy:search")
        return render(
            request,
            "privacy/report.html",
            {"report": person_report(form.cleaned_data["q"]), "generated_at": timezone.now()},
        )


def _preview(request, form: ErasureStartForm, person, *, status=200, **extra):
    """What starting the request would do now: anonymized at once, left waiting (and why), already done."""
    data = form.cleaned_data
    confirm = ErasureStartForm(
        initial={
            "q": person.query,
            "reference": data["reference"],
            "received_on": data["received_on"],
            "request_id": data.get("request_id") or uuid.uuid4(),
        }
    )
    context = {
        "person": person,
        "reference": data["reference"],
        "received_on": data["received_on"],
        "due_on": add_months(data["received_on"], ERASURE_DUE_MONTHS),
        "confirm_form": confirm,
    }
    return render(request, "privacy/preview.html", context | extra, status=status)


class ErasurePreviewView(PrivacyPageMixin, View):
    """Step two: what the request will anonymize now, what will wait and why. Nothing changes yet."""

    permission_required = ERASE_PERMISSIONS

    def get(self, request):
        # Typed, bookmarked or reopened: the request starts from the search page, not here.
        return redirect("privacy:search")

    def post(self, request):
        search = PersonSearchForm(request.POST)
        if not search.is_valid():  # e.g. a NUL character, which no query may carry
            return render(
                request, "privacy/search.html", _search_context(request, None, search=search), status=400
            )
        person = person_records(search.cleaned_data["q"])
        form = ErasureStartForm(request.POST)
        if "back" in request.POST:
            # Back from the preview: the search results again, with the reference as typed.
            return render(request, "privacy/search.html", _search_context(request, person, form))
        if person.subject is None or not form.is_valid():
            return render(request, "privacy/search.html", _search_context(request, person, form), status=400)
        return _preview(request, form, person)


class ErasureConfirmView(PrivacyPageMixin, View):
    """Step three: open the request for what the search finds now; a job works it at once."""

    permission_required = ERASE_PERMISSIONS

    def get(self, request):
        return redirect("privacy:search")

    def post(self, request):
        form = ErasureStartForm(request.POST)
        # The records are found again here, from the search key: a posted id is never trusted.
        subject = subject_of_query(request.POST.get("q", ""))
        if not form.is_valid() or subject is None:
            for error in form.errors.values():
                messages.error(request, " ".join(error))
            return redirect("privacy:search")
        data = form.cleaned_data
        try:
            erasure_request = erasure_request_create(
                resource_type=subject.resource_type,
                resource_id=subject.identifier,
                reference=data["reference"],
                received_on=data["received_on"],
                actor=Actor.for_user(request.user),
                via=Interface.WEB,
                request_id=data["request_id"],
            )
        except RequestExists as exists:
            messages.info(request, REQUEST_ALREADY_STARTED)
            return redirect("privacy:request", pk=exists.request_id)
        except ValueError as error:
            messages.error(request, str(error))
            return redirect(f"{reverse('privacy:search')}?{urlencode({'q': data['q']})}")
        messages.success(request, REQUEST_STARTED.format(reference=erasure_request.reference))
        return redirect("privacy:request", pk=erasure_request.pk)


def _erasure_request(pk) -> ErasureRequest:
    try:
        return erasure_requests().get(pk=pk)
    except ErasureRequest.DoesNotExist:
        raise Http404("No such erasure request") from None


class RequestListView(PrivacyPageMixin, DropEmptyParametersMixin, FilteredListMixin, ListView):
    """Erasure requests, newest first, by status; overdue and due-within-7-days marked."""

    template_name = "privacy/requests.html"
    context_object_name = "requests"
    paginate_by = 25
    filter_form_class = RequestFilterForm

    def select(self, **filters):
        return erasure_requests(**filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        for erasure_request in context["requests"]:
            erasure_request.due_mark = due_mark(erasure_request, today)
        return context


def _request_page(request, pk, *, status=200, **forms):
    erasure_request = _erasure_request(pk)
    jobs_of = erasure_request_jobs(erasure_request)
    items = erasure_request_items(erasure_request)
    upstream = erasure_request_upstream(items)
    for item in items:
        item.upstream = upstream.get((item.record_type, item.record_id), "")
    context = {
        "erasure_request": erasure_request,
        "items": items,
        "due_mark": due_mark(erasure_request),
        "next_step": erasure_request_next_step(erasure_request, jobs_of),
        "active_job": next((job for job in jobs_of if job.active), None),
        "failed_job": next((job for job in jobs_of[:1] if job.status == JobStatus.FAILED), None),
        "can_change": request.user.has_perms(ERASE_PERMISSIONS) and not erasure_request.closed,
        "extend_form": forms.get("extend_form") or RequestExtendForm(),
        "reject_form": forms.get("reject_form") or RequestCloseForm(),
        "cancel_form": forms.get("cancel_form") or RequestCancelForm(),
        "exclude_form": forms.get("exclude_form") or ItemExcludeForm(),
        "exclude_item": forms.get("exclude_item"),
        # A refusal from the service (already extended, already closed) shown above the page.
        "action_errors": [
            error
            for form in forms.values()
            if hasattr(form, "non_field_errors")
            for error in form.non_field_errors()
        ],
    }
    return render(request, "privacy/request.html", context, status=status)


class RequestDetailView(PrivacyPageMixin, View):
    """One request: its dates, its items and their states, the next step in plain words, its actions."""

    def get(self, request, pk):
        return _request_page(request, pk)


class RequestActionView(PrivacyPageMixin, View):
    """A change to a request through one service; an invalid form shows the request page with its errors."""

    permission_required = ERASE_PERMISSIONS
    form_class = None
    form_name = ""
    done = ""

    def get(self, request, pk, **kwargs):
        return redirect("privacy:request", pk=pk)

    def act(self, pk, data, actor, **kwargs):
        raise NotImplementedError

    def post(self, request, pk, **kwargs):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.act(pk, form.cleaned_data, Actor.for_user(request.user), **kwargs)
            except (ErasureRequest.DoesNotExist, ErasureRequestItem.DoesNotExist):
                raise Http404("No such erasure request") from None
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, self.done)
                return redirect("privacy:request", pk=pk)
        extra = {"exclude_item": kwargs.get("item_id")} if "item_id" in kwargs else {}
        return _request_page(request, pk, status=400, **{self.form_name: form}, **extra)


class RequestExtendView(RequestActionView):
    form_class, form_name, done = RequestExtendForm, "extend_form", "The due date is extended."

    def act(self, pk, data, actor, **kwargs):
        erasure_request_extend(
            erasure_request_id=pk, months=data["months"], reason=data["reason"], actor=actor
        )


class RequestRejectView(RequestActionView):
    form_class, form_name, done = RequestCloseForm, "reject_form", "The request is rejected."

    def act(self, pk, data, actor, **kwargs):
        erasure_request_reject(erasure_request_id=pk, reason=data["reason"], actor=actor)


class RequestCancelView(RequestActionView):
    form_class, form_name, done = RequestCancelForm, "cancel_form", "The request is cancelled."

    def act(self, pk, data, actor, **kwargs):
        erasure_request_cancel(erasure_request_id=pk, reason=data["reason"], actor=actor)


class ItemExcludeView(RequestActionView):
    form_class, form_name, done = ItemExcludeForm, "exclude_form", "The record is excluded from the request."

    def act(self, pk, data, actor, *, item_id):
        if not ErasureRequestItem.objects.filter(pk=item_id, request_id=pk).exists():
            raise ErasureRequestItem.DoesNotExist
        erasure_request_item_exclude(item_id=item_id, reason=data["reason"], actor=actor)


class ErasureReceiptView(PrivacyPageMixin, View):
    """A printable receipt: what was anonymized (ids, field names), what waits and why, what was excluded."""

    def get(self, request, pk):
        erasure_request = _erasure_request(pk)
        return render(request, "privacy/receipt.html", {"receipt": erasure_request_receipt(erasure_request)})


def _order_page(request, pk, *, hold_form=None, status=200):
    try:
        order, holds, review = order_with_holds(pk)
    except Order.DoesNotExist:
        raise Http404("No such order") from None
    context = {
        "order": order,
        "holds": holds,
        "active_hold_ids": {hold.pk for hold in LegalHold.objects.active().filter(order=order)},
        "problem": review.problems.get(order.pk),
        "fields": review.eligible.get(order.pk),
        "already_anonymized": order.pk in review.already_anonymized,
        "hold_form": hold_form or LegalHoldForm(),
        # Its anonymization's push to the EPCC store (the connector), when it has one.
        "upstream": upstream_states(RecordType.ORDER, [order.pk]).get(order.pk),
    }
    return render(request, "privacy/order.html", context, status=status)


class OrderDetailView(PrivacyPageMixin, View):
    """One order: its statuses, whether it can be anonymized, and its legal holds."""

    def get(self, request, pk):
        return _order_page(request, pk)


class LegalHoldPlaceView(PrivacyPageMixin, View):
    permission_required = HOLD_PLACE_PERMISSIONS

    def get(self, request, pk):
        # The form's own URL after an error, reloaded or bookmarked: show the order's page.
        return redirect("privacy:order", pk=pk)

    def post(self, request, pk):
        form = LegalHoldForm(request.POST)
        if form.is_valid():
            try:
                hold = legal_hold_place(
                    order_id=pk,
                    reason=form.cleaned_data["reason"],
                    ends_on=form.cleaned_data["ends_on"],
                    actor=Actor.for_user(request.user),
                    via=Interface.WEB,
                )
            except Order.DoesNotExist:
                raise Http404("No such order") from None
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Legal hold placed until {hold.until}.")
                return redirect("privacy:order", pk=pk)
        return _order_page(request, pk, hold_form=form, status=400)


class LegalHoldReleaseView(PrivacyPageMixin, View):
    """Releasing a hold is a step of its own: the hold, the reason asked for, then the release."""

    permission_required = HOLD_RELEASE_PERMISSIONS

    def get(self, request, pk):
        return self._page(request, _hold(pk), LegalHoldReleaseForm())

    def post(self, request, pk):
        hold = _hold(pk)
        form = LegalHoldReleaseForm(request.POST)
        if not form.is_valid():
            return self._page(request, hold, form, status=400)
        hold = legal_hold_release(
            hold_id=hold.pk,
            reason=form.cleaned_data["reason"],
            actor=Actor.for_user(request.user),
            via=Interface.WEB,
        )
        messages.success(request, "Legal hold released; the reason is in the audit trail.")
        return redirect("privacy:order", pk=hold.order_id)

    def _page(self, request, hold, form, status=200):
        if hold.released_at is not None:
            messages.info(request, "This legal hold was already released.")
            return redirect("privacy:order", pk=hold.order_id)
        return render(request, "privacy/hold_release.html", {"hold": hold, "form": form}, status=status)


def _hold(pk) -> LegalHold:
    try:
        return LegalHold.objects.select_related("created_by").get(pk=pk)
    except LegalHold.DoesNotExist:
        raise Http404("No such legal hold") from None


class LegalHoldListView(PrivacyPageMixin, ForgivingPaginationMixin, ListView):
    """Every legal hold in force, ending soonest first, page by page."""

    template_name = "privacy/holds.html"
    context_object_name = "holds"
    paginate_by = 50

    def get_queryset(self):
        return legal_holds_in_force()


class AuditTrailView(PrivacyPageMixin, DropEmptyParametersMixin, FilteredListMixin, ListView):
    """The audit trail, filtered by actor, interface, dates and record id."""

    template_name = "privacy/audit.html"
    context_object_name = "records"
    paginate_by = 50
    filter_form_class = AuditFilterForm

    def select(self, **filters):
        return audit_records(**filters)


class UsageListView(PrivacyPageMixin, DropEmptyParametersMixin, ForgivingPaginationMixin, ListView):
    """Code usages across every promotion, filtered by the API's own FilterSet, newest first."""

    template_name = "privacy/usages.html"
    context_object_name = "usages"
    paginate_by = 25

    def get_queryset(self):
        usages = CodeUsage.objects.select_related("promotion").order_by("-used_on", "-id")
        self.filter_form = UsageFilterForm(self.request.GET or None)
        if not self.filter_form.is_bound:
            return usages
        if not self.filter_form.is_valid():
            return usages.none()
        filterset = CodeUsageFilterSet(self.filter_form.filterset_data(), queryset=usages)
        if not filterset.is_valid():
            for name, errors in filterset.errors.items():
                self.filter_form.add_error(None, f"{name}: {' '.join(errors)}")
            return usages.none()
        return filterset.qs

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filter_form=self.filter_form, query=query.urlencode(), **kwargs)


class JobListView(PrivacyPageMixin, DropEmptyParametersMixin, FilteredListMixin, ListView):
    """Every job, newest first: what it does, who started it and how, how far it got."""

    template_name = "privacy/jobs.html"
    context_object_name = "jobs"
    paginate_by = 25
    filter_form_class = JobFilterForm

    def select(self, **filters):
        return jobs(**filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for job in context["jobs"]:
            job.kind_label = job_kind_label(job.kind)
        return context


def _job(pk) -> Job:
    try:
        job = jobs().get(pk=pk)
    except Job.DoesNotExist:
        raise Http404("No such job") from None
    job.kind_label = job_kind_label(job.kind)
    return job


def progress_document(job: Job) -> dict:
    """core.jobs.job_progress as JSON: the job page's script reads it (static/privacy/job-progress.js)."""
    return asdict(job_progress(job))


class JobDetailView(PrivacyPageMixin, View):
    """One job: a progress bar kept up to date by polling its progress document, then the outcome."""

    def get(self, request, pk):
        job = _job(pk)
        return render(
            request,
            "privacy/job.html",
            {
                "job": job,
                "progress": job_progress(job),
                "can_change": request.user.has_perms(ERASE_PERMISSIONS),
            },
        )


class JobProgressView(PrivacyPageMixin, View):
    def get(self, request, pk):
        return JsonResponse(progress_document(_job(pk)))


class JobCancelView(PrivacyPageMixin, View):
    """Ask a job to stop: a queued one at once, a running one before its next chunk."""

    permission_required = ERASE_PERMISSIONS

    def post(self, request, pk):
        job = job_cancel(job_id=_job(pk).pk)
        if not job.cancel_requested:
            messages.info(request, JOB_ALREADY_ENDED)
        elif job.status == JobStatus.CANCELLED:
            messages.success(request, JOB_CANCELLED)
        else:
            messages.success(request, JOB_CANCEL_REQUESTED)
        return redirect("privacy:job", pk=job.pk)


class JobRetryView(PrivacyPageMixin, View):
    """Queue a failed job again, from its first chunk not done."""

    permission_required = ERASE_PERMISSIONS

    def post(self, request, pk):
        try:
            job_retry(job_id=_job(pk).pk)
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, JOB_RETRIED)
        return redirect("privacy:job", pk=pk)


class LogoutView(auth_views.LogoutView):
    """Logging out is a POST (Django 5); a GET (a bookmark, a typed URL) leads somewhere useful."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return redirect("privacy:dashboard" if request.user.is_authenticated else "privacy:login")
