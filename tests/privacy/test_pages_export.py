"""The DSAR export: everything held about a person, in EPCC's shapes; the print stylesheet."""

import json

from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.epcc.documents import expected_order_document, expected_usage_document


def test_the_pages_have_a_print_stylesheet_that_hides_the_navigation():
    with open(finders.find("privacy/privacy.css")) as css:
        text = css.read()

    print_rules = text[text.index("@media print") :]
    assert ".site-header" in print_rules and "display: none" in print_rules


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
