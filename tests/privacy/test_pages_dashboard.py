"""The dashboard beyond its figures: every hold, activity by request, the weekly chart and its snapshots."""

from datetime import UTC, date, datetime, timedelta

from django.urls import reverse
from procrastinate.contrib.django import app

from core.audit import Actor
from core.models import AuditAction, AuditRecord, Interface
from orders.models import LegalHold
from orders.services import orders_anonymize
from privacy.backlog import backlog_snapshot_take
from privacy.charts import chart_geometry
from privacy.models import BacklogSnapshot
from privacy.selectors import activity_chart, recent_activity
from privacy.tasks import backlog_snapshot
from tests.privacy.filing import erasure_request_fulfil


def test_the_holds_page_lists_every_hold_in_force_page_by_page(
    officer_client, make_order, django_assert_max_num_queries
):
    orders = [make_order() for _ in range(60)]
    for n, order in enumerate(orders):
        LegalHold.objects.create(order=order, reason=f"Hold {n:02d}")
    released = LegalHold.objects.create(order=orders[0], reason="Released one")
    LegalHold.objects.filter(pk=released.pk).update(released_at=datetime(2024, 1, 1, tzinfo=UTC))

    # session, user, two of permissions; count, page of holds (with who placed them)
    with django_assert_max_num_queries(8):
        first = officer_client.get(reverse("privacy:holds"))
    second = officer_client.get(reverse("privacy:holds"), {"page": 2})

    assert first.context["paginator"].count == 60
    assert len(first.context["holds"]) == 50 and len(second.context["holds"]) == 10
    assert "Released one" not in first.content.decode() + second.content.decode()
    assert "page=2" in first.content.decode()


def test_recent_activity_is_one_row_per_erasure_request_or_batch(officer, make_order, make_usage):
    actor = Actor.for_user(officer)
    orders = [make_order(customer_email="ada@example.com") for _ in range(3)]
    usage = make_usage(customer_email="ada@example.com")
    request = erasure_request_fulfil(
        reference="DSR-7", order_ids=[o.pk for o in orders[:2]], usage_ids=[usage.pk], actor=actor
    )
    orders_anonymize(order_ids=[orders[2].pk], actor=actor, via=Interface.API)

    newest, older = recent_activity()

    assert (newest.erasure_request, newest.interface_label, newest.counts) == (None, "API", {"order": 1})
    assert older.erasure_request == request
    assert list(older.counts.items()) == [("order", 2), ("code_usage", 1)]
    assert not older.partial


def test_recent_activity_reads_a_bounded_window_and_says_when_a_group_reaches_past_it(officer, make_order):
    actor = Actor.for_user(officer)
    orders_anonymize(order_ids=[make_order().pk for _ in range(6)], actor=actor, via=Interface.API)

    (group,) = recent_activity(window=4)

    assert group.counts == {"order": 4} and group.partial


def test_the_chart_counts_anonymizations_by_week_and_the_backlog_from_snapshots(officer, make_order):
    today = date(2024, 3, 20)  # a Wednesday
    actor = Actor.for_user(officer)
    orders_anonymize(order_ids=[make_order().pk for _ in range(3)], actor=actor, via=Interface.API)
    AuditRecord.objects.filter(action=AuditAction.ANONYMIZE).update(at=datetime(2024, 3, 12, 10, tzinfo=UTC))
    BacklogSnapshot.objects.create(day=date(2024, 3, 11), waiting_orders=90)
    BacklogSnapshot.objects.create(day=date(2024, 3, 14), waiting_orders=70)  # the week's last: kept
    BacklogSnapshot.objects.create(day=date(2023, 1, 2), waiting_orders=999)  # before the 12 weeks

    chart = activity_chart(today=today, live_backlog=65)

    assert len(chart.weeks) == 12
    assert chart.weeks[-1].start == date(2024, 3, 18)
    last_week = chart.weeks[-2]
    assert (last_week.start, last_week.anonymized, last_week.backlog) == (date(2024, 3, 11), 3, 70)
    assert (chart.weeks[-1].backlog, chart.weeks[-1].live) == (65, True)
    assert [week.backlog for week in chart.weeks[:-2]] == [None] * 10
    assert chart.first_snapshot == date(2023, 1, 2)
    geometry = chart_geometry(chart)
    assert [bar.label for bar in geometry.bars][-2:] == ["3", "0"]
    assert len(geometry.points) == 2 and geometry.backlog_max == "100"


def test_the_chart_groups_thousands_and_keeps_every_point_inside_its_panel(db):
    BacklogSnapshot.objects.create(day=date(2024, 3, 4), waiting_orders=123456)

    geometry = chart_geometry(activity_chart(today=date(2024, 3, 6)))

    (point,) = geometry.points
    assert point.label == "123,456" and geometry.backlog_max == "200,000"
    assert geometry.second_top <= point.y <= geometry.axis_y


def test_the_backlog_snapshot_records_the_dashboards_waiting_figure_once_a_day(make_order):
    make_order(), make_order(), make_order(shipping="unfulfilled")
    held = make_order()
    LegalHold.objects.create(order=held, reason="Tax")

    first = backlog_snapshot_take(date(2024, 5, 1))
    make_order()
    again = backlog_snapshot_take(date(2024, 5, 1))
    backlog_snapshot_take()  # today's row

    assert first.waiting_orders == 2
    assert again.waiting_orders == 3
    assert BacklogSnapshot.objects.filter(day=date(2024, 5, 1)).count() == 1
    assert BacklogSnapshot.objects.count() == 2
    # The worker takes it every hour (procrastinate's periodic registry; `make run` runs a worker).
    periodic = app.periodic_registry.periodic_tasks[(backlog_snapshot.name, "backlog_snapshot")]
    assert periodic.cron == "55 * * * *"


def test_the_dashboard_figures_link_to_their_lists_and_group_thousands(officer_client, make_order):
    BacklogSnapshot.objects.create(day=date.today() - timedelta(days=7), waiting_orders=1234567)

    html = officer_client.get(reverse("privacy:dashboard")).content.decode()

    assert 'href="/admin/orders/order/?can_be_anonymized=yes"' in html
    assert 'href="/admin/orders/order/?can_be_anonymized=statuses"' in html
    assert f'href="{reverse("privacy:holds")}"' in html
    assert 'href="/privacy/usages/?anonymized=true"' in html
    assert "1,234,567" in html
