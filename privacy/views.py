"""The privacy officer's pages: parse input, call one service or selector, render.

Every page needs the view permissions on orders and code usages; erasing
needs both anonymize permissions, legal holds their own. The rules live in
the services: these views never decide who may be anonymized.
"""

import json
from dataclasses import asdict
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views import View
from django.views.generic import ListView, TemplateView

from core.audit import Actor
from core.errors import BatchRefused, ConcurrentUpdate
from core.jobs import job_cancel, job_kind_label, job_progress, job_retry
from core.models import ErasureRequest, Interface, Job, JobStatus, RecordType
from core.upstream import upstream_states
from epcc.usage_filters import CodeUsageFilterSet
from orders.models import LegalHold, Order
from orders.services import legal_hold_place, legal_hold_release, orders_anonymization_review
from privacy.forms import (
    AuditFilterForm,
    ErasureConfirmForm,
    ErasureSelectionForm,
    JobFilterForm,
    LegalHoldForm,
    PersonSearchForm,
)
from privacy.selectors import (
    audit_records,
    dashboard,
    erasure_request_receipt,
    job_counts,
    jobs,
    order_with_holds,
    person_export,
    person_records,
)
from privacy.services import NothingToErase, erasure_request_fulfil
from promotions.models import CodeUsage
from promotions.services import usages_anonymization_review

VIEW_PERMISSIONS = ("orders.view_order", "promotions.view_codeusage")
ERASE_PERMISSIONS = VIEW_PERMISSIONS + ("orders.anonymize_order", "promotions.anonymize_codeusage")
HOLD_PLACE_PERMISSIONS = VIEW_PERMISSIONS + ("orders.add_legalhold",)
HOLD_RELEASE_PERMISSIONS = VIEW_PERMISSIONS + ("orders.change_legalhold",)


JOB_CANCELLED = "The job is cancelled."
JOB_CANCEL_REQUESTED = "Cancel requested: the job stops before its next chunk."
JOB_ALREADY_ENDED = "The job had already ended; nothing to cancel."
JOB_RETRIED = "The job is queued again; it resumes at its first chunk not done."


def refused_message(count: int) -> str:
    return f"Nothing was anonymized: {count} record{pluralize(count)} may not be anonymized."


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


class DashboardView(PrivacyPageMixin, TemplateView):
    template_name = "privacy/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            dashboard=dashboard(), job_counts=job_counts(), search_form=PersonSearchForm(), **kwargs
        )


def _search_context(request, person, selection_form=None) -> dict:
    can_erase = request.user.has_perms(ERASE_PERMISSIONS)
    if selection_form is None and person is not None and person.found and can_erase:
        selection_form = ErasureSelectionForm(initial={"q": person.query}, person=person)
    return {
        "search_form": PersonSearchForm(initial={"q": person.query} if person else None),
        "person": person,
        "selection_form": selection_form,
        "selected_orders": selection_form.selected("order_ids") if selection_form else set(),
        "selected_usages": selection_form.selected("usage_ids") if selection_form else set(),
        "can_erase": can_erase,
    }


class PersonSearchView(PrivacyPageMixin, View):
    """Find a person: one box; everything held about them, and what can be erased."""

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


def _preview_context(*, reference, query, order_ids, usage_ids, all_eligible=False) -> dict:
    """What anonymizing the selection would do, as the services see it right now."""
    order_review = orders_anonymization_review(order_ids=order_ids)
    usage_review = usages_anonymization_review(usage_ids=usage_ids)
    return {
        "reference": reference,
        "query": query,
        # Posted back by "Back to the search results", so the ticks and the reference survive.
        "selection": {"order_ids": order_ids, "usage_ids": usage_ids, "all_eligible": all_eligible},
        "order_review": order_review,
        "usage_review": usage_review,
        "confirm_form": ErasureConfirmForm(
            initial={
                "q": query,
                "reference": reference,
                "order_ids": [str(pk) for pk in order_review.eligible],
                "usage_ids": [str(pk) for pk in usage_review.eligible],
            }
        ),
        "has_changes": bool(order_review.eligible or usage_review.eligible),
    }


class ErasurePreviewView(PrivacyPageMixin, View):
    """Step two: exactly which fields of which records the mask will change, and what is refused."""

    permission_required = ERASE_PERMISSIONS

    def get(self, request):
        # Typed, bookmarked or reopened: the selection lives on the search page, not here.
        return redirect("privacy:search")

    def post(self, request):
        person = person_records(request.POST.get("q", ""))
        form = ErasureSelectionForm(request.POST, person=person)
        if "back" in request.POST:
            # Back from the preview: the search results again, with the same ticks and reference.
            return render(request, "privacy/search.html", _search_context(request, person, form))
        if not form.is_valid():
            return render(request, "privacy/search.html", _search_context(request, person, form), status=400)
        context = _preview_context(
            reference=form.cleaned_data["reference"],
            query=person.query,
            order_ids=form.cleaned_data["order_ids"],
            usage_ids=form.cleaned_data["usage_ids"],
            all_eligible=form.cleaned_data["all_eligible"],
        )
        return render(request, "privacy/preview.html", context)


class ErasureConfirmView(PrivacyPageMixin, View):
    """Step three: anonymize what the preview listed, as one erasure request, all or nothing."""

    permission_required = ERASE_PERMISSIONS

    def get(self, request):
        return redirect("privacy:search")

    def post(self, request):
        form = ErasureConfirmForm(request.POST)
        if not form.is_valid():
            for error in form.errors.values():
                messages.error(request, " ".join(error))
            return redirect("privacy:search")
        data = form.cleaned_data
        try:
            erasure_request = erasure_request_fulfil(
                reference=data["reference"],
                order_ids=data["order_ids"],
                usage_ids=data["usage_ids"],
                actor=Actor.for_user(request.user),
            )
        except BatchRefused as refused:
            context = _preview_context(
                reference=data["reference"],
                query=data["q"],
                order_ids=data["order_ids"],
                usage_ids=data["usage_ids"],
            )
            context["refused"] = refused
            context["refused_message"] = refused_message(len(refused.problems))
            return render(request, "privacy/preview.html", context, status=422)
        except ConcurrentUpdate as conflict:
            context = _preview_context(
                reference=data["reference"],
                query=data["q"],
                order_ids=data["order_ids"],
                usage_ids=data["usage_ids"],
            )
            context["conflict"] = conflict.detail
            return render(request, "privacy/preview.html", context, status=409)
        except NothingToErase as nothing:
            messages.info(request, str(nothing))
            return redirect(f"{reverse('privacy:search')}?{urlencode({'q': data['q']})}")
        messages.success(request, f"Erasure request “{erasure_request.reference}” is done.")
        return redirect("privacy:receipt", pk=erasure_request.pk)


class ErasureReceiptView(PrivacyPageMixin, View):
    """A printable receipt: reference, who, when, which records, which fields; no personal values."""

    def get(self, request, pk):
        try:
            erasure_request, records = erasure_request_receipt(pk)
        except ErasureRequest.DoesNotExist:
            raise Http404("No such erasure request") from None
        return render(
            request,
            "privacy/receipt.html",
            {"erasure_request": erasure_request, "records": records},
        )


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
    permission_required = HOLD_RELEASE_PERMISSIONS

    def post(self, request, pk):
        try:
            hold = legal_hold_release(hold_id=pk, actor=Actor.for_user(request.user), via=Interface.WEB)
        except LegalHold.DoesNotExist:
            raise Http404("No such legal hold") from None
        messages.success(request, "Legal hold released.")
        return redirect("privacy:order", pk=hold.order_id)


class ForgivingPaginationMixin:
    """A page number past the end (a stale link, a shorter filtered list) or not a number shows
    the nearest page instead of a 404: the officer keeps the filters they typed."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=self.get_allow_empty())
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


class AuditTrailView(PrivacyPageMixin, ForgivingPaginationMixin, ListView):
    """The audit trail, filtered by actor, interface, dates and record id."""

    template_name = "privacy/audit.html"
    context_object_name = "records"
    paginate_by = 50

    def get_queryset(self):
        self.filter_form = AuditFilterForm(self.request.GET or None)
        if self.filter_form.is_bound and not self.filter_form.is_valid():
            return audit_records().none()
        filters = self.filter_form.cleaned_data if self.filter_form.is_bound else {}
        return audit_records(**filters)

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filter_form=self.filter_form, query=query.urlencode(), **kwargs)


class UsageListView(PrivacyPageMixin, ForgivingPaginationMixin, ListView):
    """Code usages across every promotion, filtered by the API's own FilterSet, newest first."""

    template_name = "privacy/usages.html"
    context_object_name = "usages"
    paginate_by = 25

    def get_queryset(self):
        usages = CodeUsage.objects.select_related("promotion").order_by("-used_on", "-id")
        self.filterset = CodeUsageFilterSet(self.request.GET or None, queryset=usages)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return usages.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            filter_form=usage_filter_form(self.filterset), query=query.urlencode(), **kwargs
        )


class JobListView(PrivacyPageMixin, ForgivingPaginationMixin, ListView):
    """Every job, newest first: what it does, who started it and how, how far it got."""

    template_name = "privacy/jobs.html"
    context_object_name = "jobs"
    paginate_by = 25

    def get_queryset(self):
        self.filter_form = JobFilterForm(self.request.GET or None)
        if self.filter_form.is_bound and not self.filter_form.is_valid():
            return jobs().none()
        return jobs(status=self.filter_form.cleaned_data["status"] if self.filter_form.is_bound else "")

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        context = super().get_context_data(filter_form=self.filter_form, query=query.urlencode(), **kwargs)
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


def usage_filter_form(filterset):
    """The FilterSet's own form, with hints a person needs and the API does not."""
    form = filterset.form
    for name, field in form.fields.items():
        if name.startswith("used_on"):
            field.widget.attrs.setdefault("placeholder", "YYYY-MM-DD or ISO datetime")
        elif name in ("id", "customer_id", "order_id"):
            field.widget.attrs.setdefault("placeholder", "UUID")
    if "anonymized" in form.fields:
        # django-filter's "Unknown" reads as a state; here it means "either".
        form.fields["anonymized"].widget.choices = (("unknown", "either"), ("true", "yes"), ("false", "no"))
    return form


class LogoutView(auth_views.LogoutView):
    """Logging out is a POST (Django 5); a GET (a bookmark, a typed URL) leads somewhere useful."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return redirect("privacy:dashboard" if request.user.is_authenticated else "privacy:login")
