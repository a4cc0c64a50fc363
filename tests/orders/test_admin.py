"""The orders admin: who may anonymize, what the confirmation says, what confirming does."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from core.models import AuditRecord, Interface
from orders.models import LegalHold, Order
from tests.core.changelist import ANONYMIZE_ORDERS, ORDERS_URL, choose_action, confirm_action, messages_of


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def action_choices(response) -> list[str]:
    form = response.context["action_form"]  # None when no action is offered at all
    return [name for name, _ in form.fields["action"].choices] if form else []


def reload(order) -> Order:
    return Order.objects.get(pk=order.pk)


# --- permissions -------------------------------------------------------------


def test_the_action_is_offered_to_an_officer(officer_client, make_order):
    make_order()
    response = officer_client.get(ORDERS_URL)
    assert response.status_code == 200
    assert ANONYMIZE_ORDERS in action_choices(response)


def test_a_viewer_can_view_orders_but_is_not_offered_the_action(viewer_client, make_order):
    order = make_order()
    response = viewer_client.get(ORDERS_URL)
    assert response.status_code == 200
    assert str(order.pk) in response.content.decode()
    assert ANONYMIZE_ORDERS not in action_choices(response)
    assert viewer_client.get(f"{ORDERS_URL}{order.pk}/change/").status_code == 200


def test_a_viewer_gets_no_confirmation_page(viewer_client, make_order):
    order = make_order()
    response = choose_action(viewer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk])
    # With no action to offer, the admin ignores the POST and shows the list.
    assert response.status_code == 200
    assert "admin/anonymize_selected_confirmation.html" not in [t.name for t in response.templates]
    assert not reload(order).anonymized


def test_a_viewer_posting_the_confirmation_anonymizes_nothing(viewer_client, make_order):
    order = make_order()
    response = confirm_action(viewer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk])
    assert response.status_code == 200
    assert not any(m.startswith("Anonymized") for m in messages_of(response))
    assert not reload(order).anonymized
    assert not AuditRecord.objects.exists()


def test_the_action_itself_rechecks_the_permission(rf, viewer, make_order):
    """Even called directly (bypassing the admin's action list), post=yes is refused."""
    from django.contrib.admin.sites import site
    from django.core.exceptions import PermissionDenied

    order = make_order()
    model_admin = site._registry[Order]
    request = rf.post(ORDERS_URL, {"post": "yes"})
    request.user = viewer
    with pytest.raises(PermissionDenied):
        model_admin.anonymize_selected_orders(request, Order.objects.filter(pk=order.pk))
    assert not reload(order).anonymized


def test_staff_without_view_permission_cannot_see_orders(client, django_user_model, make_order):
    make_order()
    staff = django_user_model.objects.create_user(username="staff", password="x-password-1", is_staff=True)
    client.force_login(staff)
    assert client.get(ORDERS_URL).status_code == 403


# --- the confirmation page ---------------------------------------------------


@pytest.fixture
def mixed_selection(make_order, officer):
    """One order of each kind the confirmation page tells apart."""
    eligible = make_order(shipping="fulfilled")
    refused = make_order(status="complete", payment="paid", shipping="unfulfilled")
    held = make_order(status="cancelled")
    LegalHold.objects.create(
        order=held, reason="Chargeback window", ends_on=timezone.localdate() + timedelta(days=30)
    )
    already = make_order(status="cancelled", anonymized=True, customer_email="**", customer_name="**")
    return {"eligible": eligible, "refused": refused, "held": held, "already": already}


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<div class="module" id="{section_id}">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def test_the_confirmation_page_lists_what_will_and_will_not_be_anonymized(officer_client, mixed_selection):
    ids = [order.pk for order in mixed_selection.values()]
    response = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, ids)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/anonymize_selected_confirmation.html"
    html = response.content.decode()
    assert response.context["eligible_count"] == 1
    assert response.context["refused_count"] == 2
    assert response.context["already_count"] == 1
    will = section(html, "eligible")
    assert str(mixed_selection["eligible"].pk) in will
    assert "customer: name, email" in will  # the fields it will mask, by name
    assert "shipping_address: 12 fields" in will
    wont = section(html, "refused")
    assert str(mixed_selection["refused"].pk) in wont
    assert "this order is still open (complete, paid, not shipped)" in wont
    assert str(mixed_selection["held"].pk) in wont
    assert "Not while the legal hold lasts" in wont and "Chargeback window" in wont
    assert str(mixed_selection["already"].pk) in section(html, "already")
    assert "Anonymize the 1 eligible only" in html
    assert "Go back" in html
    # Nothing changes before the officer confirms.
    assert not Order.objects.filter(pk=mixed_selection["eligible"].pk, anonymized=True).exists()
    assert not AuditRecord.objects.exists()


def test_the_confirmation_page_shows_no_personal_value(officer_client, make_order):
    order = make_order()
    html = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk]).content.decode()
    assert order.customer_email not in html
    assert order.customer_name not in html


def test_an_all_eligible_selection_asks_for_a_plain_yes(officer_client, make_order):
    orders = [make_order(), make_order(payment="refunded", shipping="unfulfilled")]
    html = choose_action(
        officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [o.pk for o in orders]
    ).content.decode()
    assert "Yes, anonymize 2 orders" in html
    assert "eligible only" not in html
    assert 'name="eligible_only"' not in html


def test_a_selection_with_nothing_eligible_offers_only_to_go_back(officer_client, make_order):
    order = make_order(shipping="unfulfilled")
    html = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk]).content.decode()
    assert "There is nothing to anonymize in this selection." in html
    assert 'type="submit"' not in html.split('<form method="post"')[-1]


# --- confirming --------------------------------------------------------------


def test_confirming_anonymizes_through_the_service_and_reports_counts(officer_client, officer, make_order):
    orders = [make_order(), make_order(status="cancelled", shipping="unfulfilled")]
    response = confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [o.pk for o in orders])

    assert response.redirect_chain[-1][0].startswith(ORDERS_URL)
    assert "Anonymized 2 orders." in messages_of(response)
    for order in orders:
        order = reload(order)
        assert order.anonymized and order.customer_email == "**"
    records = AuditRecord.objects.filter(record_id__in=[o.pk for o in orders])
    assert records.count() == 2
    assert {r.interface for r in records} == {Interface.ADMIN}
    assert {r.actor for r in records} == {officer.username}


def test_eligible_only_anonymizes_the_eligible_and_leaves_the_rest(officer_client, mixed_selection):
    ids = [order.pk for order in mixed_selection.values()]
    response = confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, ids, eligible_only="yes")

    assert (
        "Anonymized 1 order. 3 others (refused or already anonymized) were left as they were."
        in messages_of(response)
    )
    assert reload(mixed_selection["eligible"]).anonymized
    assert reload(mixed_selection["refused"]).customer_email == mixed_selection["refused"].customer_email
    assert reload(mixed_selection["held"]).customer_email == mixed_selection["held"].customer_email
    assert list(AuditRecord.objects.values_list("record_id", flat=True)) == [mixed_selection["eligible"].pk]


def test_confirming_all_of_a_mixed_selection_changes_nothing(officer_client, mixed_selection):
    """Without "eligible only", the batch is all-or-nothing, as in the service."""
    ids = [order.pk for order in mixed_selection.values()]
    response = confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, ids)

    [message] = messages_of(response)
    assert message.startswith("Nothing was anonymized: 2 of the selected orders can no longer be anonymized")
    assert not reload(mixed_selection["eligible"]).anonymized
    assert not AuditRecord.objects.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("url", [ORDERS_URL, f"{ORDERS_URL}?can_be_anonymized=yes"], ids=["all", "filtered"])
def test_a_hold_placed_after_the_confirmation_page_refuses_the_batch(officer_client, make_order, url):
    """Filtered on "can be anonymized", the held order is reported too, not silently dropped (issue 15, 8)."""
    first, second = make_order(), make_order()
    page = choose_action(officer_client, url, ANONYMIZE_ORDERS, [first.pk, second.pk])
    assert page.context["eligible_count"] == 2
    LegalHold.objects.create(order=second, reason="Tax retention")

    response = confirm_action(officer_client, url, ANONYMIZE_ORDERS, [first.pk, second.pk])

    [message] = messages_of(response)
    assert message.startswith("Nothing was anonymized: 1 of the selected orders can no longer be anonymized")
    assert "Tax retention" in message
    assert not reload(first).anonymized
    # The selection is kept: the confirmation page again, the held order among the refused.
    assert response.context["selected"] == [str(first.pk), str(second.pk)]
    assert [row.pk for row in response.context["refused_rows"]] == [second.pk]
    assert response.context["eligible_count"] == 1


# --- select across all pages ----------------------------------------------------


def test_select_across_with_a_filter_confirms_counts_and_posts_back_no_id_list(
    officer_client, make_order, monkeypatch
):
    from orders.admin import OrderAdmin

    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    monkeypatch.setattr("core.admin_actions.SAMPLE_SIZE", 3)
    fulfilled = [make_order(shipping="fulfilled") for _ in range(5)]
    untouched = [make_order(shipping="unfulfilled", payment="refunded") for _ in range(2)]
    url = f"{ORDERS_URL}?shipping__exact=fulfilled"
    first_page = [o.pk for o in sorted(fulfilled, key=lambda o: o.created_at, reverse=True)[:2]]

    page = choose_action(officer_client, url, ANONYMIZE_ORDERS, first_page, select_across="1")

    assert page.context["selected_count"] == 5
    assert page.context["eligible_count"] == 5
    assert len(page.context["eligible_rows"]) == 3
    html = page.content.decode()
    assert "all 5 orders" in html
    assert "Showing the first 3 of 5." in html
    form = html.split('<form method="post"')[1]
    assert 'action="/admin/orders/order/?shipping__exact=fulfilled"' in form
    assert 'name="select_across" value="1"' in form
    assert form.count('name="_selected_action"') <= 2  # the ticked page, never the whole selection

    response = confirm_action(officer_client, url, ANONYMIZE_ORDERS, first_page, select_across="1")

    assert "Anonymized 5 orders." in messages_of(response)
    assert all(reload(o).anonymized for o in fulfilled)
    assert not any(reload(o).anonymized for o in untouched)


def test_the_confirmation_costs_the_same_queries_for_few_or_many_orders(officer_client, make_order):
    def confirmation_queries(orders):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = choose_action(
                officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [orders[0].pk], select_across="1"
            )
        assert response.context["selected_count"] == len(orders)
        return len(queries)

    orders = [make_order(items=0) for _ in range(3)]
    few = confirmation_queries(orders)
    orders += [make_order(items=0) for _ in range(9)]
    many = confirmation_queries(orders)
    assert few == many


@pytest.mark.django_db
def test_the_admin_order_page_shows_money_as_epcc_formats_it(admin_client, make_order):
    order = make_order(currency="GBP", with_tax=2880)
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "with tax: £28.80" in page
