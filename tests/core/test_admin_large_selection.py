"""A large selection's confirmation page: counts from SQL, the service's review for the samples only.

The aggregate counts (`AnonymizationTarget.counts`) restate nothing of the
rule, but they classify on their own; these tests hold them to what the
service's full review says about the same selection.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import orders.admin
from core.admin_actions import REASON_LABELS, summarize_fields
from orders.admin import OrderAdmin, orders_selection_counts
from orders.models import LegalHold, Order
from orders.services import orders_anonymization_review
from promotions.admin import CodeUsageAdmin, usages_selection_counts
from promotions.models import CodeUsage
from promotions.services import usages_anonymization_review
from tests.core.changelist import ANONYMIZE_ORDERS, ANONYMIZE_USAGES, ORDERS_URL, USAGES_URL, choose_action

ROUNDS = 3


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def mixed_orders(make_order):
    """Every case the review tells apart, interleaved so each kind spans several list pages."""
    today = timezone.localdate()
    orders = []

    def order(*, hold=None, **values):
        made = make_order(items=0, attributes={}, addresses=False, **values)
        if hold is not None:
            LegalHold.objects.create(order=made, **hold)
        orders.append(made)

    for _ in range(ROUNDS):
        order(shipping="fulfilled")
        order(status="cancelled", hold={"reason": "Ended", "ends_on": today - timedelta(days=1)})
        order(payment="refunded", hold={"reason": "Released", "released_at": timezone.now()})
        order(status="complete", payment="paid", shipping="unfulfilled")
        # Refused by its statuses before its hold is looked at, as in the review.
        order(shipping="unfulfilled", hold={"reason": "Tax retention"})
        order(status="cancelled", hold={"reason": "Chargeback window", "ends_on": today + timedelta(days=30)})
        order(payment="refunded", hold={"reason": "Litigation"})
        order(status="cancelled", anonymized=True, customer_email="**", customer_name="**")
        order(shipping="unfulfilled", anonymized=True, hold={"reason": "Tax retention"})
    return orders


def in_list_order(ids) -> list:
    """The ids in the orders list's order (newest first)."""
    ids = set(ids)
    return [
        pk for pk in Order.objects.order_by("-created_at", "-id").values_list("pk", flat=True) if pk in ids
    ]


def rows(response, kind) -> list[tuple]:
    return [(row.pk, row.columns, row.note) for row in response.context[f"{kind}_rows"]]


def test_the_summary_of_a_select_across_counts_what_the_full_review_finds(
    officer_client, mixed_orders, monkeypatch
):
    monkeypatch.setattr(OrderAdmin, "list_per_page", 4)
    monkeypatch.setattr("core.admin_actions.SAMPLE_SIZE", 4)
    first_page = in_list_order(o.pk for o in mixed_orders)[:4]

    page = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, first_page, select_across="1")

    review = orders_anonymization_review(order_ids=[o.pk for o in mixed_orders])
    reasons = Counter(problem.code for problem in review.problems.values())
    assert (len(review.eligible), len(review.already_anonymized)) == (3 * ROUNDS, 2 * ROUNDS)
    assert reasons == {"not_eligible": 2 * ROUNDS, "legal_hold": 2 * ROUNDS}
    context = page.context
    assert context["selected_count"] == len(mixed_orders)
    assert context["eligible_count"] == len(review.eligible)
    assert context["already_count"] == len(review.already_anonymized)
    assert context["refused_count"] == len(review.problems)
    assert dict(context["refused_by_reason"]) == {REASON_LABELS[code]: n for code, n in reasons.items()}
    # The samples: the first rows of each kind in the list's order, with the service's own words.
    eligible = in_list_order(review.eligible)[:4]
    assert [(pk, note) for pk, _, note in rows(page, "eligible")] == [
        (pk, summarize_fields(review.eligible[pk])) for pk in eligible
    ]
    refused = in_list_order(review.problems)[:4]
    assert [(pk, note) for pk, _, note in rows(page, "refused")] == [
        (pk, str(review.problems[pk])) for pk in refused
    ]
    assert [pk for pk, _, _ in rows(page, "already")] == in_list_order(review.already_anonymized)[:4]
    html = page.content.decode()
    assert "Showing the first 4 of 12." in html
    assert "Anonymize the 9 eligible only" in html


def test_a_large_selection_shows_the_page_a_small_one_would(officer_client, mixed_orders, monkeypatch):
    """The same ticked ids, under and over the threshold: the same counts, rows and reasons."""
    monkeypatch.setattr("core.admin_actions.SAMPLE_SIZE", 4)
    ids = [o.pk for o in mixed_orders]
    small = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, ids)
    monkeypatch.setattr("core.admin_actions.SUMMARY_THRESHOLD", 10)
    large = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, ids)

    for name in ("selected_count", "eligible_count", "refused_count", "already_count"):
        assert large.context[name] == small.context[name], name
    assert dict(large.context["refused_by_reason"]) == dict(small.context["refused_by_reason"])
    for kind in ("eligible", "refused", "already"):
        assert rows(large, kind) == rows(small, kind), kind
        assert len(rows(large, kind)) == 4


@pytest.mark.parametrize(
    "narrowed",
    [
        lambda orders: orders,
        lambda orders: orders.filter(status="cancelled"),
        lambda orders: orders.filter(shipping="unfulfilled"),
        lambda orders: orders.filter(anonymized=False),
        lambda orders: orders.none(),
    ],
)
def test_the_order_counts_match_the_review_for_any_queryset(mixed_orders, narrowed):
    queryset = narrowed(Order.objects.all())
    review = orders_anonymization_review(order_ids=queryset.values_list("pk", flat=True))

    counts = orders_selection_counts(queryset)

    assert counts.selected == len(review.requested)
    assert counts.eligible == len(review.eligible)
    assert counts.already_anonymized == len(review.already_anonymized)
    reasons = Counter(problem.code for problem in review.problems.values())
    assert {code: n for code, n in counts.refused_by_reason.items() if n} == reasons


def test_the_usage_summary_counts_what_the_review_finds(officer_client, make_usage, monkeypatch):
    monkeypatch.setattr(CodeUsageAdmin, "list_per_page", 2)
    monkeypatch.setattr("core.admin_actions.SAMPLE_SIZE", 2)
    fresh = [make_usage() for _ in range(3)]
    done = [make_usage(anonymized=True, customer_email="**") for _ in range(3)]

    page = choose_action(officer_client, USAGES_URL, ANONYMIZE_USAGES, [fresh[0].pk], select_across="1")

    review = usages_anonymization_review(usage_ids=[u.pk for u in fresh + done])
    counts = usages_selection_counts(CodeUsage.objects.all())
    assert (counts.selected, counts.eligible, counts.already_anonymized, counts.refused) == (6, 3, 3, 0)
    assert page.context["eligible_count"] == len(review.eligible) == 3
    assert page.context["already_count"] == len(review.already_anonymized) == 3
    assert page.context["refused_count"] == 0
    newest_first = sorted(fresh, key=lambda u: u.used_on, reverse=True)[:2]
    assert [(pk, note) for pk, _, note in rows(page, "eligible")] == [
        (u.pk, summarize_fields(review.eligible[u.pk])) for u in newest_first
    ]
    assert len(rows(page, "already")) == 2
    assert "Yes, anonymize 3 code usages" in page.content.decode()


def test_a_large_confirmation_costs_the_same_queries_for_50_or_500_orders(
    officer_client, make_order, monkeypatch
):
    monkeypatch.setattr("core.admin_actions.SUMMARY_THRESHOLD", 10)
    monkeypatch.setattr("core.admin_actions.SAMPLE_SIZE", 20)
    # A spy on the real review: it must see the samples, never the whole selection.
    reviewed = []
    review = orders.admin.orders_anonymization_review

    def spied_review(*, order_ids, **kwargs):
        reviewed.append(len(order_ids))
        return review(order_ids=order_ids, **kwargs)

    monkeypatch.setattr(orders.admin, "orders_anonymization_review", spied_review)
    kinds = [
        {"shipping": "fulfilled"},
        {"payment": "refunded"},
        {"shipping": "unfulfilled"},
        {"status": "cancelled", "hold": True},
        {"shipping": "fulfilled", "anonymized": True},
    ]
    ids = []

    def add_orders(count):
        for n in range(count):
            values = dict(kinds[n % len(kinds)])
            held = values.pop("hold", False)
            order = make_order(items=0, attributes={}, addresses=False, **values)
            if held:
                LegalHold.objects.create(order=order, reason="Chargeback window")
            ids.append(order.pk)

    def confirmation(expected):
        reviewed.clear()
        with CaptureQueriesContext(connection) as queries:
            response = choose_action(officer_client, ORDERS_URL, ANONYMIZE_ORDERS, ids)
        context = response.context
        assert (
            context["selected_count"],
            context["eligible_count"],
            context["refused_count"],
            context["already_count"],
        ) == expected
        assert reviewed == [min(expected[1], 20) + min(expected[2], 20) + min(expected[3], 20)]
        return len(queries)

    add_orders(50)
    fifty = confirmation((50, 20, 20, 10))
    add_orders(450)
    five_hundred = confirmation((500, 200, 200, 100))
    assert fifty == five_hundred, (fifty, five_hundred)
    assert five_hundred <= 20


def test_the_eligible_flag_marks_what_eligible_selects(mixed_orders, make_usage):
    """A job's chunks are written from `flag_eligible` (one pass): it must mark the `eligible` part."""
    from orders.admin import ORDERS
    from promotions.admin import USAGES

    make_usage(), make_usage(anonymized=True, customer_email="**"), make_usage()
    for target, queryset in ((ORDERS, Order.objects.all()), (USAGES, CodeUsage.objects.all())):
        flagged = dict(target.flag_eligible(queryset).values_list("pk", "eligible"))
        eligible = set(target.eligible(queryset).values_list("pk", flat=True))
        assert len(flagged) == queryset.count()
        assert {pk for pk, flag in flagged.items() if flag} == eligible
        assert eligible and len(eligible) < len(flagged)
