"""Dashboard, usage browser and audit trail: right figures, filters, paging, bounded queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from core.audit import Actor
from core.models import AuditRecord, Interface
from orders.models import LegalHold
from orders.services import orders_anonymize
from privacy.selectors import dashboard, recent_activity


@pytest.fixture
def orders_in_every_state(make_order, officer):
    make_order(shipping="fulfilled")  # waiting
    make_order(status="cancelled", shipping="unfulfilled")  # waiting
    make_order(shipping="unfulfilled")  # not yet: complete paid unfulfilled
    make_order(shipping="unfulfilled")  # not yet: the same combination
    make_order(status="processing", payment="authorized", shipping="unfulfilled")  # not yet
    held = make_order(payment="refunded", shipping="unfulfilled")
    LegalHold.objects.create(order=held, reason="Chargeback window")
    # A hold on an order whose statuses refuse it anyway counts as not yet, by status.
    held_and_refused = make_order(shipping="unfulfilled")
    LegalHold.objects.create(order=held_and_refused, reason="Litigation")
    # An expired hold no longer holds.
    expired = make_order()
    LegalHold.objects.create(order=expired, reason="Old", ends_on=datetime(2020, 1, 1).date())
    done = make_order()
    orders_anonymize(order_ids=[done.pk], actor=Actor.for_user(officer), via=Interface.WEB)


def test_the_dashboard_figures(orders_in_every_state, make_usage):
    make_usage(anonymized=True)
    make_usage()

    figures = dashboard()

    assert figures.waiting == 3
    assert figures.held == 1
    assert figures.not_yet_total == 4
    assert figures.held_not_eligible == 1
    assert [(row.status, row.payment, row.shipping, row.count) for row in figures.not_yet][0] == (
        "complete",
        "paid",
        "unfulfilled",
        3,
    )
    assert (figures.orders_anonymized, figures.orders_total) == (1, 9)
    assert (figures.usages_anonymized, figures.usages_total) == (1, 2)
    assert {hold.reason for hold in figures.holds} == {"Chargeback window", "Litigation"}
    (latest, *_) = recent_activity()
    assert latest.action == "anonymize"


def test_the_dashboard_page_costs_a_fixed_number_of_queries(
    officer_client, orders_in_every_state, make_order, django_assert_max_num_queries
):
    for _ in range(20):
        LegalHold.objects.create(order=make_order(), reason="More holds")

    # session, user, two of permissions; orders grouped, held orders grouped, usages, holds, jobs,
    # erasure requests; recent activity (grouped, its requests); the chart (anonymized by week,
    # snapshots, first snapshot)
    with django_assert_max_num_queries(15):
        response = officer_client.get(reverse("privacy:dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "waiting to be anonymized" in html
    assert html.count("More holds") == 20  # the first twenty, by end date


def test_the_usage_browser_filters_with_the_api_filterset_and_pages(
    officer_client, make_promotion, make_usage, django_assert_max_num_queries
):
    promotion = make_promotion(codes=())
    for day in range(30):
        make_usage(promotion=promotion, used_on=datetime(2024, 3, 1, 12, tzinfo=UTC) + timedelta(days=day))
    make_usage(code="OTHER", customer_email="Only.Me@example.com")

    with django_assert_max_num_queries(8):
        first = officer_client.get(reverse("privacy:usages"), {"code": "summer10"})
    second = officer_client.get(reverse("privacy:usages"), {"code": "summer10", "page": 2})
    day = officer_client.get(reverse("privacy:usages"), {"date_from": "2024-03-05", "date_to": "2024-03-05"})
    days = officer_client.get(reverse("privacy:usages"), {"date_from": "2024-03-05", "date_to": "2024-03-07"})
    email = officer_client.get(reverse("privacy:usages"), {"email": "only.me@EXAMPLE.com"})

    assert first.context["paginator"].count == 30
    assert len(first.context["usages"]) == 25
    assert len(second.context["usages"]) == 5
    assert "code=summer10&amp;page=2" in first.content.decode()
    assert [usage.used_on.date().isoformat() for usage in day.context["usages"]] == ["2024-03-05"]
    assert len(days.context["usages"]) == 3  # both ends' whole days
    assert [usage.code for usage in email.context["usages"]] == ["OTHER"]
    for label in ("Code (any case)", "Used from (UTC day)", "Used to (UTC day)", "Email"):
        assert label in first.content.decode()


def test_the_usage_browser_shows_a_filter_that_does_not_parse(officer_client, make_usage):
    make_usage()

    response = officer_client.get(reverse("privacy:usages"), {"date_from": "last tuesday"})

    assert response.status_code == 200
    assert list(response.context["usages"]) == []
    html = response.content.decode()
    assert 'class="errorlist' in html
    assert "Not a date: use the date picker, or type it as YYYY-MM-DD." in html
    assert "Fix the filters above: nothing was searched." in html
    assert "No code usages match" not in html


def test_the_audit_trail_filters_by_actor_interface_date_and_record(
    officer_client, make_order, officer, django_user_model
):
    orders = [make_order() for _ in range(3)]
    other = django_user_model.objects.create_user("other-officer")
    orders_anonymize(order_ids=[orders[0].pk], actor=Actor.for_user(officer), via=Interface.WEB)
    orders_anonymize(order_ids=[orders[1].pk], actor=Actor.for_user(other), via=Interface.ADMIN)
    orders_anonymize(order_ids=[orders[2].pk], actor=Actor.system("retention"), via=Interface.COMMAND)
    AuditRecord.objects.filter(record_id=orders[2].pk).update(at=datetime(2024, 6, 1, 23, 59, tzinfo=UTC))
    url = reverse("privacy:audit")

    def shown(**filters):
        return {record.record_id for record in officer_client.get(url, filters).context["records"]}

    assert shown() == {order.pk for order in orders}
    assert shown(actor="other-officer") == {orders[1].pk}
    assert shown(interface="command") == {orders[2].pk}
    assert shown(record_id=str(orders[0].pk)) == {orders[0].pk}
    assert shown(date_from="2024-06-01", date_to="2024-06-01") == {orders[2].pk}
    assert shown(date_to="2024-05-31") == set()
    assert shown(record_id="not-a-uuid") == set()


def test_the_audit_trail_pages(officer_client, make_order, officer):
    orders = [make_order() for _ in range(55)]
    orders_anonymize(order_ids=[o.pk for o in orders], actor=Actor.for_user(officer), via=Interface.WEB)

    first = officer_client.get(reverse("privacy:audit"), {"interface": "web"})
    second = officer_client.get(reverse("privacy:audit"), {"interface": "web", "page": 2})

    assert len(first.context["records"]) == 50
    assert len(second.context["records"]) == 5
    assert "interface=web&amp;page=2" in first.content.decode()
