"""Legal holds from an order's page: placed, shown, refusing erasure, released."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from core.models import AuditAction, AuditRecord
from orders.models import LegalHold


def order_url(order):
    return reverse("privacy:order", kwargs={"pk": order.pk})


def test_an_officer_places_a_hold_with_a_reason_and_end_date(officer_client, person):
    ends_on = timezone.localdate() + timedelta(days=60)

    response = officer_client.post(
        reverse("privacy:hold-place", kwargs={"pk": person.eligible.pk}),
        {"reason": "Chargeback window", "ends_on": ends_on.isoformat()},
        follow=True,
    )

    hold = LegalHold.objects.get()
    assert (hold.order_id, hold.reason, hold.ends_on) == (person.eligible.pk, "Chargeback window", ends_on)
    assert response.redirect_chain[-1][0] == order_url(person.eligible)
    html = response.content.decode()
    assert f"Legal hold placed until {ends_on.isoformat()}" in html
    assert f"Not while the legal hold lasts (until {ends_on.isoformat()}: Chargeback window)." in html
    assert "Order is under legal hold" not in html  # EPCC's text is for the API
    record = AuditRecord.objects.get(action=AuditAction.HOLD_PLACED)
    assert (record.interface, record.actor, record.record_id) == ("web", "officer", person.eligible.pk)


def test_a_hold_needs_a_reason_and_cannot_end_in_the_past(officer_client, person):
    url = reverse("privacy:hold-place", kwargs={"pk": person.eligible.pk})

    no_reason = officer_client.post(url, {"reason": " "})
    in_the_past = officer_client.post(
        url, {"reason": "Tax", "ends_on": (timezone.localdate() - timedelta(days=1)).isoformat()}
    )

    assert no_reason.status_code == 400
    assert "This field is required." in no_reason.content.decode()
    assert in_the_past.status_code == 400
    assert "A legal hold cannot end in the past." in in_the_past.content.decode()
    assert not LegalHold.objects.exists()


def test_releasing_a_hold_asks_for_a_reason_and_makes_the_order_eligible_again(officer_client, person):
    hold = LegalHold.objects.create(order=person.eligible, reason="Tax retention")
    assert "Tax retention" in officer_client.get(order_url(person.eligible)).content.decode()
    url = reverse("privacy:hold-release", kwargs={"pk": hold.pk})

    asked = officer_client.get(url)
    no_reason = officer_client.post(url, {"reason": "  "})
    hold.refresh_from_db()
    assert hold.released_at is None  # neither the page nor a blank reason releases it
    response = officer_client.post(url, {"reason": "Retention period over"}, follow=True)

    assert asked.status_code == 200 and "Why is the hold released?" in asked.content.decode()
    assert no_reason.status_code == 400
    assert "Give the reason the hold no longer applies." in no_reason.content.decode()
    hold.refresh_from_db()
    assert hold.released_at is not None
    html = response.content.decode()
    assert "Legal hold released" in html
    assert "legal hold lasts" not in html
    assert response.context["fields"]  # eligible again: fields to mask
    record = AuditRecord.objects.get(action=AuditAction.HOLD_RELEASED, interface="web")
    assert record.note == "Retention period over"
    assert person.eligible.customer_email not in str(record.__dict__)
    # A second release (a stale tab) changes nothing and says so.
    again = officer_client.get(url, follow=True)
    assert "already released" in again.content.decode()
    assert AuditRecord.objects.filter(action=AuditAction.HOLD_RELEASED).count() == 1


def test_the_order_page_shows_the_status_refusal(officer_client, person):
    html = officer_client.get(order_url(person.refused)).content.decode()

    assert "still open (complete, paid, not shipped)" in html
    assert "order:complete" not in html  # EPCC's text is for the API


def test_an_unknown_order_or_hold_is_404(officer_client, db):
    missing = "00000000-0000-4000-8000-000000000000"

    assert officer_client.get(reverse("privacy:order", kwargs={"pk": missing})).status_code == 404
    assert officer_client.post(reverse("privacy:hold-release", kwargs={"pk": missing})).status_code == 404
    assert officer_client.get(reverse("privacy:hold-release", kwargs={"pk": missing})).status_code == 404
    place = officer_client.post(reverse("privacy:hold-place", kwargs={"pk": missing}), {"reason": "x"})
    assert place.status_code == 404


def test_the_order_page_costs_a_fixed_number_of_queries(
    officer_client, person, django_assert_max_num_queries
):
    for n in range(5):
        LegalHold.objects.create(order=person.eligible, reason=f"Hold {n}")

    # session, user, two of permissions; order, holds, active holds, and the review's queries
    with django_assert_max_num_queries(12):
        response = officer_client.get(order_url(person.eligible))

    assert response.content.decode().count("Hold ") >= 5


def test_the_order_page_shows_its_push_to_the_store(officer_client, person):
    from core.models import RecordType, UpstreamPush

    assert 'id="upstream"' not in officer_client.get(order_url(person.eligible)).content.decode()
    UpstreamPush.objects.create(
        record_type=RecordType.ORDER,
        record_id=person.eligible.pk,
        batch_id=person.eligible.pk,
        state="failed",
        error="422 Could not anonymize orders: Order has status: order:complete",
    )
    html = officer_client.get(order_url(person.eligible)).content.decode()
    assert "failed upstream" in html and "422 Could not anonymize orders: Order has status" in html
