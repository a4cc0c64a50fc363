"""The privacy pages' forms: they parse input, the services and selectors decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import ErasureRequestStatus, Interface, JobStatus
from erasure.selectors import DueFilter
from erasure.services import REFERENCE_MAX_LENGTH

REFERENCE_REQUIRED = "Give a reason or a ticket reference for this erasure request."
REFERENCE_HELP = "A ticket number or short reason; not the person's name or email."


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label="Email, customer id, order id or account id",
        max_length=255,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "size": 48}),
    )


class ErasureStartForm(forms.Form):
    """Start an erasure request for the person a search found: the officer's reference and the day received.

    No record id is posted: the request covers what the search finds for `q`
    when it is confirmed, worked out again on the server.
    """

    q = forms.CharField(widget=forms.HiddenInput, max_length=255)
    reference = forms.CharField(
        label="Reason or ticket reference",
        max_length=REFERENCE_MAX_LENGTH,
        help_text=REFERENCE_HELP,
        error_messages={"required": REFERENCE_REQUIRED},
    )
    received_on = forms.DateField(
        label="Received on",
        required=False,
        help_text="The day the person asked; the answer is due one calendar month later. Empty: today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # The request's id, fixed by the preview: confirming twice (a double click, a reload) opens one request.
    request_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        if not reference:
            raise ValidationError(REFERENCE_REQUIRED, code="required")
        if "\x00" in reference:
            raise ValidationError("A reference may not contain a NUL character.", code="invalid")
        return reference

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"] or timezone.localdate()
        if received_on > timezone.localdate():
            raise ValidationError("A request cannot be received in the future.", code="future")
        return received_on


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "any")] + list(ErasureRequestStatus.choices)
    )
    due = forms.ChoiceField(
        label="Due",
        required=False,
        choices=[("", "any"), (DueFilter.OVERDUE, "overdue"), (DueFilter.DUE_SOON, "due within 7 days")],
    )


class RequestExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label="Extend by", coerce=int, choices=[(1, "1 month"), (2, "2 months")], initial=2
    )
    reason = forms.CharField(
        label="Why more time is needed",
        max_length=500,
        help_text="Told to the person: e.g. the number or complexity of their requests (GDPR Art. 12(3)).",
    )


class RequestCloseForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500)


class RequestCancelForm(forms.Form):
    reason = forms.CharField(label="Note (optional)", max_length=500, required=False)


class ItemExcludeForm(forms.Form):
    reason = forms.CharField(
        label="Why this record is kept",
        max_length=500,
        help_text="E.g. needed for an open dispute; no personal value.",
    )


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=255,
        help_text="For example: chargeback window, tax retention, litigation.",
    )
    ends_on = forms.DateField(
        label="Last day of the hold",
        required=False,
        help_text="Leave empty to hold until released.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_ends_on(self):
        ends_on = self.cleaned_data["ends_on"]
        if ends_on is not None and ends_on < timezone.localdate():
            raise ValidationError("A legal hold cannot end in the past.", code="past")
        return ends_on


class LegalHoldReleaseForm(forms.Form):
    reason = forms.CharField(
        label="Why is the hold released?",
        max_length=255,
        help_text="Kept in the audit trail. For example: chargeback window closed, case settled. "
        "Not the customer's name or email.",
        error_messages={"required": "Give the reason the hold no longer applies."},
    )


class DateRangeForm(forms.Form):
    """A filter form with `date_from` and `date_to` (whole days, both included)."""

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        # Reversed dates would silently match nothing; say so instead of showing an empty list.
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "“To” is before “From”; swap the dates.")
        return cleaned


class AuditFilterForm(DateRangeForm):
    actor = forms.CharField(label="Actor (username or Key-…)", required=False, max_length=150)
    interface = forms.ChoiceField(
        label="Interface", required=False, choices=[("", "any")] + list(Interface.choices)
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    record_id = forms.UUIDField(label="Record id", required=False)
    batch_id = forms.UUIDField(label="Batch id", required=False)


BAD_DATE = "Not a date: use the date picker, or type it as YYYY-MM-DD."


def _day(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": BAD_DATE},
    )


class UsageFilterForm(DateRangeForm):
    """The usage browser's filters, in people's terms; the view hands them to the API's FilterSet."""

    code = forms.CharField(label="Code (any case)", required=False, max_length=255)
    email = forms.CharField(label="Email (exact, any case)", required=False, max_length=255)
    customer_id = forms.UUIDField(
        label="Customer id", required=False, widget=forms.TextInput(attrs={"placeholder": "UUID"})
    )
    order_id = forms.UUIDField(
        label="Order id", required=False, widget=forms.TextInput(attrs={"placeholder": "UUID"})
    )
    id = forms.UUIDField(
        label="Usage id", required=False, widget=forms.TextInput(attrs={"placeholder": "UUID"})
    )
    date_from = _day("Used from (UTC day)")
    date_to = _day("Used to (UTC day)")
    anonymized = forms.ChoiceField(
        label="Anonymized", required=False, choices=[("", "either"), ("true", "yes"), ("false", "no")]
    )

    def filterset_data(self) -> dict[str, str]:
        """The filled-in filters as the FilterSet's (and the API's) names: From/To are whole days."""
        data = self.cleaned_data
        names = {"date_from": "used_on_ge", "date_to": "used_on_le"}
        return {
            names.get(name, name): value.isoformat() if hasattr(value, "isoformat") else str(value)
            for name, value in data.items()
            if value not in (None, "")
        }


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "any")] + list(JobStatus.choices)
    )
