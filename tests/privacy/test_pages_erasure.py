"""Erasure requests: select, preview, confirm, receipt; all or nothing through the services."""

import json
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from core.errors import BatchRefused
from core.models import AuditRecord, ErasureRequest, Interface
from epcc.documents.orders import order_document
from orders.models import LegalHold, Order
from orders.services import legal_hold_place
from privacy.forms import NOTHING_SELECTED, REFERENCE_REQUIRED
from privacy.services import erasure_request_fulfil
from promotions.models import CodeUsage
from tests.epcc.documents import expected_order_document, expected_usage_document


def preview(client, person, **data):
    return client.post(reverse("privacy:erasure-preview"), {"q": person.email} | data)


# --- the service ---------------------------------------------------------------


def test_the_service_anonymizes_orders_and_usages_as_one_request(person, actor):
    erasure_request = erasure_request_fulfil(
        reference="  TICKET-42 ",
        order_ids=[person.eligible.pk],
        usage_ids=[usage.pk for usage in person.usages],
        actor=actor,
    )

    assert erasure_request.reference == "TICKET-42"
    assert erasure_request.created_by == actor.user
    person.eligible.refresh_from_db()
    assert person.eligible.anonymized and person.eligible.customer_email == "**"
    assert set(CodeUsage.objects.values_list("customer_email", flat=True)) == {"**"}
    records = AuditRecord.objects.filter(erasure_request=erasure_request)
    assert records.count() == 3
    assert set(records.values_list("interface", flat=True)) == {Interface.WEB}
    assert set(records.values_list("actor", flat=True)) == {"officer"}


def test_the_service_changes_nothing_when_any_record_is_refused(person, actor):
    with pytest.raises(BatchRefused) as refused:
        erasure_request_fulfil(
            reference="TICKET-42",
            order_ids=[person.eligible.pk, person.refused.pk],
            usage_ids=[person.usages[0].pk],
            actor=actor,
        )

    assert refused.value.problems[0].meta == {"order_id": str(person.refused.pk)}
    assert not Order.objects.filter(anonymized=True).exists()
    assert not CodeUsage.objects.filter(anonymized=True).exists()
    assert not ErasureRequest.objects.exists()
    assert not AuditRecord.objects.exists()


def test_a_refused_usage_rolls_back_the_orders_already_masked(person, actor):
    unknown_usage = "00000000-0000-4000-8000-000000000000"

    with pytest.raises(BatchRefused):
        erasure_request_fulfil(
            reference="T-1", order_ids=[person.eligible.pk], usage_ids=[unknown_usage], actor=actor
        )

    person.eligible.refresh_from_db()
    assert not person.eligible.anonymized
    assert not ErasureRequest.objects.exists()


@pytest.mark.parametrize(
    ("reference", "order_ids"), [("", ["x"]), ("   ", ["x"]), ("T-1", []), ("x" * 201, ["x"])]
)
def test_the_service_needs_a_reference_and_a_record(person, actor, reference, order_ids):
    order_ids = [person.eligible.pk if i == "x" else i for i in order_ids]

    with pytest.raises(ValueError):
        erasure_request_fulfil(reference=reference, order_ids=order_ids, usage_ids=[], actor=actor)

    assert not ErasureRequest.objects.exists()


# --- the pages -----------------------------------------------------------------


def test_preview_lists_the_fields_of_each_record_and_the_refused_ones(officer_client, person):
    response = preview(
        officer_client,
        person,
        reference="TICKET-42",
        order_ids=[str(person.eligible.pk), str(person.refused.pk)],
        usage_ids=[str(person.usages[0].pk)],
    )

    html = response.content.decode()
    assert response.status_code == 200
    masked = ("customer.email", "contact.name", "billing_address.postcode", "shipping_address.phone_number")
    for field in masked:
        assert f"<li>{field}</li>" in html
    assert "<li>custom_attributes.gift_message.value</li>" in html
    assert "<li>customer_email</li>" in html
    assert "Will not be anonymized" in html
    assert "still open (complete, paid, not shipped)" in html
    assert "order:complete" not in html  # EPCC's text is for the API
    # Only what will change is carried to the confirmation.
    confirm = response.context["confirm_form"]
    assert confirm.initial["order_ids"] == [str(person.eligible.pk)]
    assert confirm.initial["usage_ids"] == [str(person.usages[0].pk)]
    assert f'name="order_ids" value="{person.refused.pk}"' not in html
    person.eligible.refresh_from_db()
    assert not person.eligible.anonymized


def test_all_eligible_selects_every_eligible_record(officer_client, person):
    response = preview(officer_client, person, reference="TICKET-42", all_eligible="on")

    assert response.status_code == 200
    assert list(response.context["order_review"].eligible) == [person.eligible.pk]
    assert set(response.context["usage_review"].eligible) == {usage.pk for usage in person.usages}


def test_a_missing_reference_keeps_the_selection_and_says_so(officer_client, person):
    response = preview(officer_client, person, reference="  ", order_ids=[str(person.eligible.pk)])

    html = response.content.decode()
    assert response.status_code == 400
    assert REFERENCE_REQUIRED in html
    assert f'value="{person.eligible.pk}" id="order-{person.eligible.pk}" checked' in html
    assert f'value="{person.refused.pk}" id="order-{person.refused.pk}" disabled' in html  # refused: no tick


def test_selecting_nothing_is_an_error(officer_client, person):
    response = preview(officer_client, person, reference="TICKET-42")

    assert response.status_code == 400
    assert NOTHING_SELECTED in response.content.decode()


def test_a_record_outside_the_search_results_cannot_be_slipped_in(officer_client, person, stranger):
    response = preview(officer_client, person, reference="T-1", order_ids=[str(stranger[0].pk)])

    assert response.status_code == 400
    assert not response.context["selection_form"].is_valid()


def test_confirm_anonymizes_through_the_service_and_shows_the_receipt(officer_client, person, officer):
    response = officer_client.post(
        reverse("privacy:erasure-confirm"),
        {
            "q": person.email,
            "reference": "TICKET-42",
            "order_ids": [str(person.eligible.pk)],
            "usage_ids": [str(usage.pk) for usage in person.usages],
        },
        follow=True,
    )

    erasure_request = ErasureRequest.objects.get()
    assert response.redirect_chain == [(reverse("privacy:receipt", kwargs={"pk": erasure_request.pk}), 302)]
    assert erasure_request.reference == "TICKET-42"
    assert erasure_request.created_by == officer
    records = AuditRecord.objects.filter(erasure_request=erasure_request)
    assert {(r.record_type, r.record_id) for r in records} == {("order", person.eligible.pk)} | {
        ("code_usage", usage.pk) for usage in person.usages
    }
    assert {r.interface for r in records} == {"web"}
    person.eligible.refresh_from_db()
    assert person.eligible.anonymized
    assert "is done" in response.content.decode()


def test_the_receipt_names_records_and_fields_but_no_personal_value(officer_client, person, actor):
    before = order_document(person.eligible.pk)
    erasure_request = erasure_request_fulfil(
        reference="TICKET-42",
        order_ids=[person.eligible.pk],
        usage_ids=[person.usages[0].pk],
        actor=actor,
    )

    html = officer_client.get(reverse("privacy:receipt", kwargs={"pk": erasure_request.pk})).content.decode()

    assert "TICKET-42" in html
    assert "officer" in html
    assert str(person.eligible.pk) in html and str(person.usages[0].pk) in html
    assert "<li>shipping_address.line_1</li>" in html
    assert "<li>customer_email</li>" in html
    personal = [
        before["customer"]["name"],
        before["customer"]["email"],
        before["contact"]["email"],
        before["shipping_address"]["line_1"],
        before["billing_address"]["postcode"],
        before["custom_attributes"]["gift_message"]["value"],
        person.email,
        person.email.lower(),
    ]
    for value in personal:
        assert value not in html


def test_the_pages_have_a_print_stylesheet_that_hides_the_navigation():
    with open(finders.find("privacy/privacy.css")) as css:
        text = css.read()

    print_rules = text[text.index("@media print") :]
    assert ".site-header" in print_rules and "display: none" in print_rules


def test_a_hold_placed_after_the_preview_refuses_the_confirmation(officer_client, person, actor):
    legal_hold_place(
        order_id=person.eligible.pk,
        reason="Chargeback window",
        ends_on=timezone.localdate() + timedelta(days=30),
        actor=actor,
        via=Interface.WEB,
    )

    response = officer_client.post(
        reverse("privacy:erasure-confirm"),
        {
            "reference": "TICKET-42",
            "order_ids": [str(person.eligible.pk)],
            "usage_ids": [str(person.usages[0].pk)],
        },
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was anonymized" in html
    assert "Chargeback window" in html
    assert not Order.objects.filter(anonymized=True).exists()
    assert not CodeUsage.objects.filter(anonymized=True).exists()
    assert not ErasureRequest.objects.exists()


def test_a_confirmation_without_reference_changes_nothing(officer_client, person):
    response = officer_client.post(
        reverse("privacy:erasure-confirm"), {"reference": "", "order_ids": [str(person.eligible.pk)]}
    )

    assert response.status_code == 302
    person.eligible.refresh_from_db()
    assert not person.eligible.anonymized
    assert REFERENCE_REQUIRED in officer_client.get(response["Location"]).content.decode()


# --- export --------------------------------------------------------------------


def test_export_downloads_everything_held_in_epcc_shape(officer_client, person, stranger):
    response = officer_client.get(reverse("privacy:export"), {"q": person.email})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="personal-data-')
    assert "@" not in disposition
    document = json.loads(response.content)
    expected_orders = [expected_order_document(pk) for pk in (person.refused.pk, person.eligible.pk)]
    assert sorted(document["data"]["orders"], key=lambda o: o["id"]) == sorted(
        expected_orders, key=lambda o: o["id"]
    )
    assert sorted(document["data"]["usages"], key=lambda u: u["id"]) == sorted(
        (expected_usage_document(u.pk) for u in person.usages),
        key=lambda u: u["id"],
    )
    assert document["meta"]["results"] == {"orders": 2, "usages": 2}
    assert "someone.else@example.com" not in response.content.decode()


def test_export_costs_a_fixed_number_of_queries(officer_client, make_order, django_assert_max_num_queries):
    for _ in range(10):
        make_order(customer_email="many@example.com")

    with django_assert_max_num_queries(10):
        response = officer_client.get(reverse("privacy:export"), {"q": "MANY@example.com"})

    assert len(json.loads(response.content)["data"]["orders"]) == 10


def test_a_held_order_is_shown_refused_in_the_search_and_the_preview(officer_client, person):
    LegalHold.objects.create(order=person.eligible, reason="Tax retention")

    search = officer_client.get(reverse("privacy:search"), {"q": person.email}).content.decode()
    previewed = preview(officer_client, person, reference="T-1", order_ids=[str(person.eligible.pk)])

    assert "Not while the legal hold lasts (until further notice: Tax retention)" in search
    assert (
        "Not while the legal hold lasts (until further notice: Tax retention)" in previewed.content.decode()
    )
    assert not previewed.context["has_changes"]
    assert "Anonymize 0" not in previewed.content.decode()


def test_sending_the_confirmation_twice_records_one_request(officer_client, person):
    form = {
        "q": person.email,
        "reference": "TICKET-43",
        "order_ids": [str(person.eligible.pk)],
        "usage_ids": [str(usage.pk) for usage in person.usages],
    }
    officer_client.post(reverse("privacy:erasure-confirm"), form)

    again = officer_client.post(reverse("privacy:erasure-confirm"), form, follow=True)

    assert ErasureRequest.objects.count() == 1
    assert again.redirect_chain[-1][0].startswith(reverse("privacy:search"))
    assert "already anonymized; no erasure request was recorded" in again.content.decode()
