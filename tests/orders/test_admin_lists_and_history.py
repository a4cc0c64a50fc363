"""The orders list (filters, search, fixed query counts) and what the admin keeps in its history."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.forms import modelform_factory
from django.utils import timezone

from core.models import AuditRecord
from orders.models import LegalHold, Order
from tests.core.changelist import ANONYMIZE_ORDERS, ORDERS_URL, confirm_action


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def listed(response) -> set:
    return {order.pk for order in response.context["cl"].result_list}


# --- filters and search ----------------------------------------------------------


def test_can_be_anonymized_filter_follows_the_rule_and_the_holds(officer_client, make_order):
    eligible = make_order(shipping="fulfilled")
    not_eligible = make_order(shipping="unfulfilled")
    held = make_order(payment="refunded", shipping="unfulfilled")
    LegalHold.objects.create(
        order=held, reason="Chargeback", ends_on=timezone.localdate() + timedelta(days=3)
    )
    released = make_order(status="cancelled")
    LegalHold.objects.create(order=released, reason="Old", released_at=timezone.now())
    make_order(status="cancelled", anonymized=True)

    assert listed(officer_client.get(ORDERS_URL, {"can_be_anonymized": "yes"})) == {eligible.pk, released.pk}
    assert listed(officer_client.get(ORDERS_URL, {"can_be_anonymized": "statuses"})) == {not_eligible.pk}
    assert listed(officer_client.get(ORDERS_URL, {"can_be_anonymized": "hold"})) == {held.pk}


def test_status_filters_and_anonymized_filter(officer_client, make_order):
    cancelled = make_order(status="cancelled", shipping="unfulfilled")
    done = make_order(anonymized=True)
    assert listed(officer_client.get(ORDERS_URL, {"status__exact": "cancelled"})) == {cancelled.pk}
    assert listed(officer_client.get(ORDERS_URL, {"anonymized__exact": "1"})) == {done.pk}
    assert listed(
        officer_client.get(ORDERS_URL, {"shipping__exact": "unfulfilled", "payment__exact": "paid"})
    ) == {cancelled.pk}


def test_search_by_email_is_exact_and_ignores_case(officer_client, make_order):
    order = make_order(customer_email="Grace.Hopper@Example.com")
    make_order(customer_email="grace.hopper@example.org")
    assert listed(officer_client.get(ORDERS_URL, {"q": " GRACE.HOPPER@example.COM "})) == {order.pk}
    assert listed(officer_client.get(ORDERS_URL, {"q": "hopper@example"})) == set()


def test_search_by_order_id_or_customer_id(officer_client, make_order):
    order, other = make_order(), make_order()
    assert listed(officer_client.get(ORDERS_URL, {"q": str(order.pk)})) == {order.pk}
    assert listed(officer_client.get(ORDERS_URL, {"q": str(other.customer_id)})) == {other.pk}
    assert listed(officer_client.get(ORDERS_URL, {"q": "Ada"})) == set()


def test_date_drill_down(officer_client, make_order):
    order = make_order()
    year = order.created_at.year
    assert listed(officer_client.get(ORDERS_URL, {"created_at__year": year})) == {order.pk}
    assert listed(officer_client.get(ORDERS_URL, {"created_at__year": year - 1})) == set()


def test_the_date_drill_down_reads_only_the_first_and_last_date(officer_client, make_order):
    from datetime import UTC, datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_order(created_at=datetime(2023, 5, 1, tzinfo=UTC))
    make_order(created_at=datetime(2025, 2, 1, tzinfo=UTC))
    with CaptureQueriesContext(connection) as queries:
        html = officer_client.get(ORDERS_URL).content.decode()

    sql = [q["sql"].upper() for q in queries]
    assert not any("DISTINCT" in statement for statement in sql)  # no scan for the years that hold rows
    assert sum("MIN(" in statement for statement in sql) == 1
    for year in (2023, 2024, 2025):
        assert f"?created_at__year={year}" in html
    months = officer_client.get(ORDERS_URL, {"created_at__year": 2023}).content.decode()
    assert "?created_at__month=5&amp;created_at__year=2023" in months


@pytest.mark.parametrize("rows", [2, 12])
def test_the_list_costs_a_fixed_number_of_queries(
    officer_client, make_order, rows, django_assert_max_num_queries
):
    for n in range(rows):
        order = make_order()
        if n % 2:
            LegalHold.objects.create(order=order, reason="Chargeback")
    # session, user, permissions, count, page, date drill-down, filters: not one per row
    with django_assert_max_num_queries(10):
        response = officer_client.get(ORDERS_URL)
    assert len(response.context["cl"].result_list) == rows
    assert sum(order.anonymization_block == "legal_hold" for order in response.context["cl"].result_list) == (
        rows // 2
    )
    assert response.content.decode().count("no: legal hold") == rows // 2


def test_the_order_page_shows_its_parts_to_an_officer(officer_client, make_order):
    order = make_order()
    LegalHold.objects.create(order=order, reason="Chargeback window")
    html = officer_client.get(f"{ORDERS_URL}{order.pk}/change/").content.decode()
    assert "Byron Street" in html  # address inline
    assert "gift_message" in html  # custom attribute inline
    assert "Item 0" in html
    assert "Chargeback window" in html


# --- read-only, and no personal value in the admin's history --------------------------


def test_orders_cannot_be_edited_even_by_a_superuser(admin_client, make_order):
    order = make_order(status="cancelled", anonymized=True, customer_email="**", customer_name="**")
    page = admin_client.get(f"{ORDERS_URL}{order.pk}/change/")
    assert page.status_code == 200
    assert 'name="customer_email"' not in page.content.decode()

    response = admin_client.post(
        f"{ORDERS_URL}{order.pk}/change/",
        {"customer_email": "ada@example.com", "customer_name": "Ada", "status": "cancelled"},
    )

    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.customer_email, order.customer_name) == ("**", "**")


def test_anonymizing_logs_one_entry_per_order_naming_fields_never_values(officer_client, officer, make_order):
    orders = [make_order(), make_order()]
    confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [o.pk for o in orders])

    batch_id = AuditRecord.objects.get(record_id=orders[0].pk).batch_id
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Order))
    assert {e.object_id for e in entries} == {str(o.pk) for o in orders}
    for entry in entries:
        assert entry.user == officer and entry.action_flag == CHANGE
        assert entry.object_repr == f"Order {entry.object_id}"
        assert entry.get_change_message() == (
            f"Anonymized (audit batch {batch_id}): customer_name, customer_email, contact_name, "
            "contact_email, the shipping and billing address fields and custom attribute values "
            "masked where set."
        )
        assert entry.get_edited_object() == Order.objects.get(pk=entry.object_id)


def test_no_personal_value_of_an_anonymized_order_remains_in_the_admin_history(
    officer_client, officer, rf, make_order
):
    """An earlier change logged the way the admin logs any change form, then anonymization."""
    order = make_order()
    old_values = [order.customer_email, order.customer_name, order.contact_email, "Byron Street"]
    # The admin never edits orders; log a change exactly as its change view would
    # (the most a change form could ever write), to prove nothing of it leaks.
    model_admin = site._registry[Order]
    form_class = modelform_factory(Order, fields=["customer_email", "customer_name", "currency"])
    form = form_class(
        data={"customer_email": "ada.new@example.com", "customer_name": "Ada Byron", "currency": "EUR"},
        instance=Order.objects.get(pk=order.pk),
    )
    assert form.is_valid()
    request = rf.post("/")
    request.user = officer
    model_admin.log_change(request, form.instance, model_admin.construct_change_message(request, form, None))
    old_values += ["ada.new@example.com", "Ada Byron"]

    confirm_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, [order.pk])

    assert Order.objects.get(pk=order.pk).anonymized
    history = LogEntry.objects.filter(object_id=str(order.pk))
    assert history.count() == 2
    for entry in history:
        text = f"{entry.object_repr} {entry.change_message} {entry.get_change_message()}"
        for value in old_values:
            assert value not in text
    assert officer_client.get(f"{ORDERS_URL}{order.pk}/history/").status_code == 200


def test_eligible_only_selects_exactly_what_the_review_finds_eligible(make_order):
    """The action's "eligible only" (queryset form) and the service's review agree."""
    from orders.admin import orders_eligible
    from orders.services import orders_anonymization_review

    statuses = [
        {"status": s, "payment": p, "shipping": sh}
        for s in ("complete", "cancelled")
        for p in ("paid", "refunded")
        for sh in ("unfulfilled", "fulfilled")
    ]
    orders = [make_order(items=0, attributes={}, addresses=False, **values) for values in statuses * 2]
    for order in orders[::3]:
        LegalHold.objects.create(order=order, reason="Chargeback")
    LegalHold.objects.create(
        order=orders[1], reason="Ended", ends_on=timezone.localdate() - timedelta(days=1)
    )
    Order.objects.filter(pk__in=[o.pk for o in orders[::5]]).update(anonymized=True)

    review = orders_anonymization_review(order_ids=[o.pk for o in orders])
    assert set(orders_eligible(Order.objects.all()).values_list("pk", flat=True)) == set(review.eligible)
    assert set(Order.objects.anonymizable_now().values_list("pk", flat=True)) == set(review.eligible)
    held = Order.objects.with_anonymization_block().filter(anonymization_block="legal_hold")
    assert set(held.values_list("pk", flat=True)) == {
        pk for pk, problem in review.problems.items() if problem.code == "legal_hold"
    }
    assert review.eligible and review.problems and review.already_anonymized


def test_history_reprs_come_from_the_models_own_str_pattern(monkeypatch):
    """The database writes each entry's repr from the pattern __str__ shows; anything else is refused."""
    from django.core.exceptions import ImproperlyConfigured

    from core.admin_actions import history_repr_pattern
    from promotions.models import CodeUsage

    assert history_repr_pattern(Order) == ("Order ", "")
    assert history_repr_pattern(CodeUsage) == ("Usage ", "")

    monkeypatch.setattr(Order, "__str__", lambda self: "an order")
    with pytest.raises(ImproperlyConfigured):
        history_repr_pattern(Order)


def test_history_reprs_refuse_any_other_str(monkeypatch, make_order, django_user_model):
    """With no id pattern to hand the database, there is no second (Python) path: the model is refused."""
    import uuid

    from django.core.exceptions import ImproperlyConfigured

    from core.admin_actions import log_anonymization
    from core.batches import Outcome

    user = django_user_model.objects.create_user("historian")
    orders = [make_order(), make_order()]
    monkeypatch.setattr(Order, "__str__", lambda self: f"order ending {str(self.pk)[-4:]}")
    changed = [order.pk for order in orders]
    outcome = Outcome(requested=changed, changed=changed, already_anonymized=[], batch_id=uuid.uuid4())

    with pytest.raises(ImproperlyConfigured, match="__str__"):
        log_anonymization(user, Order, "customer", outcome)
    assert not LogEntry.objects.exists()


def test_an_admin_offering_anonymize_whose_model_str_is_not_its_id_fails_the_system_check(monkeypatch):
    from django.contrib import admin

    from core.checks import anonymize_actions_can_write_their_history
    from orders.models import Order

    assert anonymize_actions_can_write_their_history(None) == []
    assert "anonymize_selected_orders" in admin.site._registry[Order].actions
    monkeypatch.setattr(Order, "__str__", lambda self: "an order")

    errors = anonymize_actions_can_write_their_history(None)

    assert [error.id for error in errors] == ["core.E001"]
    assert "Order.__str__ must show the record's id" in errors[0].msg
