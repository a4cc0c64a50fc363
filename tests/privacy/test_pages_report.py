"""The subject access report (privacy:report) and the list pages' clean URLs."""

import pytest
from django.urls import reverse

from core.audit import Actor
from core.models import Interface
from orders.services import orders_anonymize


def test_the_report_costs_a_fixed_number_of_queries_and_shows_only_the_person(
    officer_client, person, stranger, make_order, django_assert_max_num_queries
):
    for _ in range(5):
        make_order(customer_email=person.email)

    # session, user, two of permissions; orders, addresses, attributes, items; usages
    with django_assert_max_num_queries(10):
        response = officer_client.get(reverse("privacy:report"), {"q": person.email.upper()})

    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["report"].orders) == 7 and len(response.context["report"].usages) == 2
    assert "someone.else@example.com" not in html
    assert "Ada Subject" in html and "WINTER5" in html
    assert response["Cache-Control"].startswith("max-age=0")  # never kept by a browser or proxy


def test_an_anonymized_order_reports_its_mask_and_no_former_value(officer_client, person, officer):
    orders_anonymize(order_ids=[person.eligible.pk], actor=Actor.for_user(officer), via=Interface.WEB)

    report = officer_client.get(reverse("privacy:report"), {"q": str(person.customer_id)}).context["report"]

    (anonymized,) = [record for record in report.orders if record.id == person.eligible.pk]
    assert anonymized.anonymized
    values = {field.label: field.value for field in anonymized.fields}
    assert values["Customer email"] == "**" and values["Customer name"] == "**"


def test_a_report_without_a_search_goes_back_to_the_search(officer_client, db):
    response = officer_client.get(reverse("privacy:report"))

    assert response.status_code == 302 and response["Location"] == reverse("privacy:search")


@pytest.mark.parametrize("url_name", ["privacy:usages", "privacy:audit", "privacy:jobs"])
def test_a_list_page_drops_empty_parameters_from_its_url(officer_client, db, url_name):
    url = reverse(url_name)

    response = officer_client.get(url, {"code": "", "actor": "", "status": "", "page": "2", "x": ["", "y"]})
    clean = officer_client.get(url, {"page": "2"})

    assert response.status_code == 302 and response["Location"] == f"{url}?page=2&x=y"
    assert clean.status_code == 200
    assert officer_client.get(url, {"code": ""})["Location"] == url
