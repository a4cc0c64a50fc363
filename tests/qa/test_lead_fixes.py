"""Small things a new user tripped over."""

import pytest

from core.api_keys import api_key_create


@pytest.mark.django_db
def test_options_is_a_405_in_the_envelope_not_a_403(client, officer):
    _, token = api_key_create(name="t", user=officer)
    answer = client.options("/v2/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 405
    assert answer.json()["errors"][0]["status"] == 405


@pytest.mark.django_db
def test_logout_by_get_leads_somewhere_and_post_logs_out(client, officer):
    client.force_login(officer)
    assert client.get("/privacy/logout/").url == "/privacy/"
    client.post("/privacy/logout/")
    assert client.get("/privacy/logout/").url == "/privacy/login/"
    assert client.get("/privacy/").status_code == 302


@pytest.mark.django_db
def test_the_admin_names_the_product(admin_client):
    assert "Privacy back-office administration" in admin_client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_the_admin_order_page_shows_money_as_epcc_formats_it(admin_client, make_order):
    order = make_order(currency="GBP", with_tax=2880)
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "with tax: £28.80" in page
