"""The privacy pages' forms: they parse input, the services and selectors decide."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Interface, JobStatus
from privacy.selectors import PersonRecords
from privacy.services import REFERENCE_MAX_LENGTH

REFERENCE_REQUIRED = "Give a reason or a ticket reference for this erasure request."
NOTHING_SELECTED = "Select at least one record, or tick “all eligible records”."
REFERENCE_HELP = "A ticket number or short reason; not the person's name or email."
# A ticked record the search no longer finds: anonymized (its email is now the mask) or
# changed since the page was loaded, or an id that was never in the results.
STALE_SELECTION = (
    "A selected record is no longer among this search's results (it may have been anonymized "
    "or changed meanwhile). Check the list below and tick again."
)


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label="Email, customer id, order id or account id",
        max_length=255,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "size": 48}),
    )


class UUIDListField(forms.Field):
    """Several UUIDs posted under one name (hidden inputs of a confirmation step)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        try:
            return [uuid.UUID(str(item)) for item in value]
        except ValueError:
            raise ValidationError("That selection is not a list of record ids.", code="invalid") from None


class ErasureSelectionForm(forms.Form):
    """The records picked from a person's search results, and the request's reference.

    Only records the search found may be chosen, so a forged id cannot slip in.
    """

    q = forms.CharField(widget=forms.HiddenInput)
    order_ids = forms.TypedMultipleChoiceField(
        coerce=uuid.UUID,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Orders",
        error_messages={"invalid_choice": STALE_SELECTION},
    )
    usage_ids = forms.TypedMultipleChoiceField(
        coerce=uuid.UUID,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Code usages",
        error_messages={"invalid_choice": STALE_SELECTION},
    )
    all_eligible = forms.BooleanField(required=False, label="All eligible records")
    reference = forms.CharField(
        label="Reason or ticket reference",
        max_length=REFERENCE_MAX_LENGTH,
        help_text=REFERENCE_HELP,
        error_messages={"required": REFERENCE_REQUIRED},
    )

    def __init__(self, *args, person: PersonRecords, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["order_ids"].choices = [(str(row.id), str(row.id)) for row in person.orders]
        self.fields["usage_ids"].choices = [(str(row.id), str(row.id)) for row in person.usages]

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        if not reference:
            raise ValidationError(REFERENCE_REQUIRED, code="required")
        return reference

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("all_eligible"):
            cleaned["order_ids"] = self.person.eligible_order_ids
            cleaned["usage_ids"] = self.person.eligible_usage_ids
        if not cleaned.get("order_ids") and not cleaned.get("usage_ids") and "order_ids" not in self.errors:
            raise ValidationError(NOTHING_SELECTED, code="nothing_selected")
        return cleaned

    def selected(self, name: str) -> set[str]:
        """The ids ticked in the submitted form, to tick them again when it is shown with errors."""
        return {str(value) for value in self.data.getlist(name)} if self.is_bound else set()


class ErasureConfirmForm(forms.Form):
    """The exact records a preview listed, posted back to be anonymized."""

    q = forms.CharField(widget=forms.HiddenInput, required=False)
    reference = forms.CharField(
        max_length=REFERENCE_MAX_LENGTH,
        widget=forms.HiddenInput,
        error_messages={"required": REFERENCE_REQUIRED},
    )
    order_ids = UUIDListField(required=False)
    usage_ids = UUIDListField(required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("order_ids") and not cleaned.get("usage_ids") and not self.errors:
            raise ValidationError(NOTHING_SELECTED, code="nothing_selected")
        return cleaned


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
