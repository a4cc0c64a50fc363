"""The privacy pages (/privacy/) at their edges: each test failed before its fix."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.audit import Actor
from core.jobs import job_run
from core.models import Interface, Job
from erasure.models import ErasureRequestItem
from orders.models import Order
from orders.services import legal_hold_place, orders_anonymize
from tests.privacy import edge_cases_fixtures

# This module's own `person` (one usage) and `officer_client`, not those of tests/privacy/conftest.py.
officer_client = edge_cases_fixtures.officer_client
person = edge_cases_fixtures.person


def test_back_from_the_preview_keeps_the_reference_and_the_received_date(officer_client, person):
    response = officer_client.post(
        reverse("privacy:erasure-preview"),
        {"q": person.email, "reference": "DSR-77", "received_on": "2024-02-01"},
    )
    html = response.content.decode()
    back_form = html[html.index('name="back"') - 1500 : html.index('name="back"')]
    assert 'name="order_ids"' not in back_form and 'name="usage_ids"' not in back_form

    back = officer_client.post(
        reverse("privacy:erasure-preview"),
        {"q": person.email, "reference": "DSR-77", "received_on": "2024-02-01", "back": "1"},
    )

    assert back.status_code == 200
    html = back.content.decode()
    assert 'value="DSR-77"' in html
    assert 'value="2024-02-01"' in html
    assert not Order.objects.filter(anonymized=True).exists()


@pytest.mark.parametrize("page", ["999", "0", "-1", "abc", "last"])
@pytest.mark.parametrize("url_name", ["privacy:usages", "privacy:audit"])
def test_a_page_number_out_of_range_shows_the_nearest_page_not_a_404(officer_client, person, url_name, page):
    response = officer_client.get(reverse(url_name), {"page": page, "interface": "", "code": ""}, follow=True)

    assert response.status_code == 200


def test_a_page_past_the_end_shows_the_last_page_with_its_rows(officer_client, make_usage):
    for _ in range(30):
        make_usage()

    response = officer_client.get(reverse("privacy:usages"), {"page": "7", "code": "summer10"})

    assert response.status_code == 200
    assert response.context["page_obj"].number == 2
    assert len(response.context["usages"]) == 5
    assert 'value="summer10"' in response.content.decode()  # the filter typed is still there


def test_reversed_audit_dates_say_so_instead_of_an_empty_trail(officer_client, person, officer):
    legal_hold_place(
        order_id=person.eligible.pk,
        reason="Tax",
        ends_on=None,
        actor=Actor.for_user(officer),
        via=Interface.WEB,
    )
    today = timezone.localdate()

    response = officer_client.get(
        reverse("privacy:audit"),
        {"date_from": today.isoformat(), "date_to": (today - timezone.timedelta(days=2)).isoformat()},
    )

    assert response.status_code == 200
    assert "“To” is before “From”" in response.content.decode()
    assert response.context["filter_form"].errors["date_to"]


def test_the_same_day_as_from_and_to_is_one_day_not_an_error(officer_client, person, officer):
    legal_hold_place(
        order_id=person.eligible.pk,
        reason="Tax",
        ends_on=None,
        actor=Actor.for_user(officer),
        via=Interface.WEB,
    )
    today = timezone.localdate().isoformat()

    response = officer_client.get(reverse("privacy:audit"), {"date_from": today, "date_to": today})

    assert response.context["filter_form"].is_valid()
    assert len(response.context["records"]) == 1


def test_a_hold_placed_after_the_preview_leaves_the_order_waiting_and_names_the_hold(
    officer_client, person, officer
):
    legal_hold_place(
        order_id=person.eligible.pk,
        reason="Tax",
        ends_on=None,
        actor=Actor.for_user(officer),
        via=Interface.WEB,
    )

    response = officer_client.post(
        reverse("privacy:erasure-confirm"), {"q": person.email, "reference": "DSR-79"}, follow=True
    )
    for job in Job.objects.all():
        job_run(job_id=job.pk)

    assert response.status_code == 200
    item = ErasureRequestItem.objects.get(record_id=person.eligible.pk)
    assert item.state == "waiting"
    assert "Under legal hold until further notice (Tax)" in item.reason
    assert not Order.objects.get(pk=person.eligible.pk).anonymized


def test_the_403_page_does_not_send_a_user_without_access_back_to_a_page_they_cannot_open(
    client, django_user_model
):
    nobody = django_user_model.objects.create_user("nobody", password="nobody-password-1")
    client.force_login(nobody)

    response = client.get(reverse("privacy:dashboard"))

    assert response.status_code == 403
    assert "Back to the dashboard" not in response.content.decode()


def test_the_403_page_offers_the_dashboard_to_a_viewer_refused_an_erasure(client, django_user_model):
    viewer = django_user_model.objects.create_user("looker", password="looker-password-1")
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_order", "view_codeusage"]))
    client.force_login(viewer)

    response = client.post(reverse("privacy:erasure-preview"), {"q": "x@example.com"})

    assert response.status_code == 403
    assert "Back to the dashboard" in response.content.decode()


def test_pages_declare_no_favicon_so_browsers_do_not_ask_for_a_missing_one(officer_client):
    response = officer_client.get(reverse("privacy:dashboard"))

    assert '<link rel="icon" href="data:,">' in response.content.decode()


def test_a_record_anonymized_between_preview_and_confirm_is_not_an_error(officer_client, person, actor):
    # Between the preview and the confirmation, the API anonymizes the order: its email is now the
    # mask, so the search by email no longer finds it, and the request covers the rest.
    orders_anonymize(order_ids=[person.eligible.pk], actor=actor, via=Interface.API)

    response = officer_client.post(
        reverse("privacy:erasure-confirm"), {"q": person.email, "reference": "DSR-80"}
    )

    assert response.status_code == 302
    assert set(ErasureRequestItem.objects.values_list("record_id", flat=True)) == {
        person.refused.pk,
        person.usage.pk,
    }


@pytest.mark.parametrize("url_name", ["privacy:erasure-preview", "privacy:erasure-confirm"])
def test_opening_an_erasure_step_by_its_url_goes_to_the_search_not_a_blank_405(officer_client, url_name):
    response = officer_client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:search")


def test_reloading_the_hold_form_url_goes_to_the_order_page(officer_client, person):
    response = officer_client.get(reverse("privacy:hold-place", kwargs={"pk": person.eligible.pk}))

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:order", kwargs={"pk": person.eligible.pk})
