"""Find a person: every key finds the same records; each says whether it can be anonymized."""

import uuid

import pytest
from django.db import connection
from django.urls import reverse

from core.errors import ORDER_NOT_ELIGIBLE_DETAIL
from orders.models import LegalHold
from privacy.selectors import person_records


def ids(rows):
    return {row.id for row in rows}


def test_an_email_finds_orders_and_usages_in_any_letter_case(person, stranger):
    found = person_records("  ada.SUBJECT@example.COM ")

    assert found.kind == "email"
    assert ids(found.orders) == {person.eligible.pk, person.refused.pk}
    assert ids(found.usages) == {usage.pk for usage in person.usages}


def test_a_customer_id_finds_their_orders_and_usages(person, stranger):
    found = person_records(str(person.customer_id))

    assert ids(found.orders) == {person.eligible.pk, person.refused.pk}
    assert ids(found.usages) == {person.usages[0].pk}


def test_an_order_id_finds_that_order_and_everything_of_its_customer(person, stranger):
    found = person_records(str(person.refused.pk))

    assert ids(found.orders) == {person.eligible.pk, person.refused.pk}
    assert ids(found.usages) == {person.usages[0].pk}


def test_an_account_id_finds_the_accounts_orders(person, stranger, make_usage):
    usage = make_usage(account_id=person.account_id)

    found = person_records(str(person.account_id))

    assert ids(found.orders) == {person.eligible.pk, person.refused.pk}
    assert ids(found.usages) == {usage.pk}


def test_a_contact_email_finds_the_order_too(make_order, stranger):
    order = make_order(contact_email="Contact.Only@example.com")

    found = person_records("contact.only@EXAMPLE.com")

    assert ids(found.orders) == {order.pk}


def test_a_nul_character_finds_nothing_and_is_no_error(person):
    found = person_records("ada\x00@example.com")

    assert found.kind is None and not found.found


def test_an_order_without_customer_id_finds_only_itself(make_order, stranger):
    order = make_order(customer_id=None)

    found = person_records(str(order.pk))

    assert ids(found.orders) == {order.pk}
    assert found.usages == []


@pytest.mark.parametrize("query", ["", "ada", "not-a-uuid"])
def test_a_query_that_is_neither_email_nor_id_finds_nothing(person, query):
    found = person_records(query)

    assert found.kind is None
    assert not found.found


def test_each_row_says_why_it_cannot_be_anonymized_as_the_service_does(person):
    LegalHold.objects.create(order=person.eligible, reason="Chargeback window")

    rows = {row.id: row for row in person_records(person.email).orders}

    refused, held = rows[person.refused.pk], rows[person.eligible.pk]
    assert not refused.eligible
    assert refused.problem.detail == ORDER_NOT_ELIGIBLE_DETAIL.format(
        status="complete", payment="paid", shipping="unfulfilled"
    )
    assert not held.eligible
    assert held.problem.code == "legal_hold"
    assert "Chargeback window" in held.problem.detail


def test_eligible_rows_carry_the_fields_the_mask_will_change(person):
    rows = {row.id: row for row in person_records(person.email).orders}

    fields = rows[person.eligible.pk].fields
    assert "customer.email" in fields
    assert "shipping_address.line_1" in fields
    assert "custom_attributes.gift_message.value" in fields


def test_the_search_page_shows_results_and_reasons(officer_client, person, stranger):
    response = officer_client.get(reverse("privacy:search"), {"q": person.email})

    html = response.content.decode()
    assert response.status_code == 200
    assert str(person.eligible.pk) in html
    assert str(person.refused.pk) in html
    assert "Winter" in html and "WINTER5" in html
    assert "still open (complete, paid, not shipped)" in html
    assert "order:complete" not in html  # EPCC's text is for the API
    assert "someone.else@example.com" not in html


def test_the_search_page_says_when_nothing_is_held(officer_client, db):
    response = officer_client.get(reverse("privacy:search"), {"q": "nobody@example.com"})

    assert "Nothing is held under" in response.content.decode()


def test_personal_values_are_escaped(officer_client, make_order):
    order = make_order(customer_name="<script>alert('x')</script>", customer_email="evil@example.com")

    response = officer_client.get(reverse("privacy:search"), {"q": str(order.pk)})

    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_search_costs_the_same_queries_for_one_record_or_many(
    officer_client, make_order, make_usage, django_assert_max_num_queries
):
    customer_id = uuid.uuid4()
    for _ in range(25):
        make_order(customer_id=customer_id)
        make_usage(customer_id=customer_id)

    # session, user, permissions, what the id is, orders, usages, two order reviews, one usage review
    with django_assert_max_num_queries(12):
        response = officer_client.get(reverse("privacy:search"), {"q": str(customer_id)})

    assert response.content.decode().count('href="/privacy/orders/') == 25


def test_email_search_can_use_the_upper_email_indexes(person):
    """The selector's UPPER(customer_email) = UPPER(%s) is the indexed expression."""
    from django.db.models import Value
    from django.db.models.functions import Upper

    from orders.models import Order
    from promotions.models import CodeUsage

    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for model in (Order, CodeUsage):
            query = (
                model.objects.alias(email_upper=Upper("customer_email"))
                .filter(email_upper=Upper(Value(person.email)))
                # Without the model's ordering, which on a handful of rows may
                # lead the planner to an index on created_at instead.
                .order_by()
                .values("pk")
                .query
            )
            sql, params = query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    assert "order_email_upper_idx" in plans[0]
    assert "usage_email_upper_idx" in plans[1]


def test_a_search_matching_too_many_records_is_cut_and_says_so(officer_client, make_order, monkeypatch):
    monkeypatch.setattr("privacy.selectors.PERSON_RECORDS_LIMIT", 3)
    for _ in range(4):
        make_order(customer_email="shared@example.com")

    response = officer_client.get(reverse("privacy:search"), {"q": "shared@example.com"})

    assert response.context["person"].truncated
    assert len(response.context["person"].orders) == 3
    assert "More records match than one page shows" in response.content.decode()


@pytest.mark.django_db
def test_the_email_search_as_it_runs_reads_both_email_indexes_not_the_table(make_order):
    """Find a person matches the customer's and the contact's email: each has its index."""
    from erasure.subjects import subject_of_query, subject_orders

    make_order(customer_email="ada@example.com", contact_email="ada.work@example.com")
    query = subject_orders(subject_of_query("Ada.Work@example.com")).order_by().values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "order_email_upper_idx" in plan and "order_contact_email_upper_idx" in plan, plan
