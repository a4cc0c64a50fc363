"""The privacy pages (/privacy/) at their edges: each test failed before its fix."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.audit import Actor
from core.models import Interface
from orders.models import Order
from orders.services import legal_hold_place, orders_anonymize
from promotions.models import CodeUsage
from tests.privacy import edge_cases_fixtures

# This module's own `person` (one usage) and `officer_client`, not those of tests/privacy/conftest.py.
officer_client = edge_cases_fixtures.officer_client
person = edge_cases_fixtures.person


def test_back_from_the_preview_keeps_the_ticks_and_the_reference(officer_client, person):
    response = officer_client.post(
        reverse("privacy:erasure-preview"),
        {
            "q": person.email,
            "order_ids": [str(person.eligible.pk), str(person.refused.pk)],
            "reference": "DSR-77",
        },
    )
    html = response.content.decode()
    assert 'name="back"' in html
    # The confirmation still carries only the eligible order; the way back carries both ticks.
    assert response.context["confirm_form"].initial["order_ids"] == [str(person.eligible.pk)]
    assert f'value="{person.refused.pk}" name="order_ids"' in html

    back = officer_client.post(
        reverse("privacy:erasure-preview"),
        {
            "q": person.email,
            "order_ids": [str(person.eligible.pk), str(person.refused.pk)],
            "reference": "DSR-77",
            "back": "1",
        },
    )

    assert back.status_code == 200
    html = back.content.decode()
    assert f'value="{person.eligible.pk}" id="order-{person.eligible.pk}" checked' in html
    assert f'value="{person.refused.pk}" id="order-{person.refused.pk}" checked' in html
    assert f'value="{person.usage.pk}" id="usage-{person.usage.pk}">' in html  # not ticked before, not now
    assert 'value="DSR-77"' in html
    # Going back changes nothing.
    assert not Order.objects.filter(anonymized=True).exists()


def test_the_preview_posts_back_exactly_what_was_selected(officer_client, person):
    response = officer_client.post(
        reverse("privacy:erasure-preview"),
        {"q": person.email, "all_eligible": "on", "reference": "DSR-78"},
    )

    html = response.content.decode()
    back_form = html[html.index('name="back"') - 2000 : html.index('name="back"')]
    assert '<input type="hidden" value="on" name="all_eligible">' in back_form
    assert f'<input type="hidden" value="{person.eligible.pk}" name="order_ids">' in back_form
    assert f'<input type="hidden" value="{person.usage.pk}" name="usage_ids">' in back_form
    assert str(person.refused.pk) not in back_form


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


def test_the_refusal_after_a_preview_reads_as_english(officer_client, person, officer):
    preview_ids = {
        "order_ids": [str(person.eligible.pk)],
        "usage_ids": [],
        "reference": "DSR-79",
        "q": person.email,
    }
    legal_hold_place(
        order_id=person.eligible.pk,
        reason="Tax",
        ends_on=None,
        actor=Actor.for_user(officer),
        via=Interface.WEB,
    )

    response = officer_client.post(reverse("privacy:erasure-confirm"), preview_ids)

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was anonymized: 1 record may not be anonymized." in html
    assert "record(s)" not in html
    assert not CodeUsage.objects.filter(anonymized=True).exists()


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


def test_a_ticked_record_anonymized_meanwhile_is_explained_not_silently_dropped(
    officer_client, person, actor
):
    # Between the search and "Preview", the API anonymizes the order: its email is now the mask,
    # so the search by email no longer finds it.
    orders_anonymize(order_ids=[person.eligible.pk], actor=actor, via=Interface.API)

    response = officer_client.post(
        reverse("privacy:erasure-preview"),
        {"q": person.email, "order_ids": [str(person.eligible.pk)], "reference": "DSR-80"},
    )

    assert response.status_code == 400
    assert "A selected record is no longer among this search" in response.content.decode()


@pytest.mark.parametrize("url_name", ["privacy:erasure-preview", "privacy:erasure-confirm"])
def test_opening_an_erasure_step_by_its_url_goes_to_the_search_not_a_blank_405(officer_client, url_name):
    response = officer_client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:search")


def test_reloading_the_hold_form_url_goes_to_the_order_page(officer_client, person):
    response = officer_client.get(reverse("privacy:hold-place", kwargs={"pk": person.eligible.pk}))

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:order", kwargs={"pk": person.eligible.pk})
