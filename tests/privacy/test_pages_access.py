"""Who gets into the privacy pages, and who may change anything there."""

import pytest
from django.urls import reverse

from core.models import ErasureRequest

PAGES = [
    ("privacy:dashboard", {}),
    ("privacy:search", {}),
    ("privacy:export", {}),
    ("privacy:usages", {}),
    ("privacy:audit", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/privacy/login/?next={url}"


def test_anonymous_posts_change_nothing_and_go_to_login(client, person):
    response = client.post(
        reverse("privacy:erasure-confirm"), {"reference": "T-1", "order_ids": [str(person.eligible.pk)]}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/privacy/login/")
    person.eligible.refresh_from_db()
    assert not person.eligible.anonymized


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_users_without_view_permissions_get_403(client, django_user_model, name, kwargs):
    client.force_login(django_user_model.objects.create_user("nobody", password="nobody-password-1"))

    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 403
    assert b"does not have the permission" in response.content


def test_the_login_form_signs_an_officer_in(client, officer):
    page = client.get(reverse("privacy:login"))
    assert b'name="csrfmiddlewaretoken"' in page.content
    assert b'<label for="id_username">' in page.content

    response = client.post(
        reverse("privacy:login"), {"username": "officer", "password": "officer-password-1"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/privacy/"
    assert client.get("/privacy/").status_code == 200


def test_logout_is_a_post_and_ends_the_session(officer_client):
    response = officer_client.post(reverse("privacy:logout"))

    assert response.status_code == 302
    assert response["Location"] == "/privacy/login/"
    assert officer_client.get("/privacy/").status_code == 302


def test_a_viewer_can_search_and_export_but_is_offered_no_erasure(viewer_client, person):
    response = viewer_client.get(reverse("privacy:search"), {"q": person.email})

    assert response.status_code == 200
    assert str(person.eligible.pk).encode() in response.content
    assert b'name="order_ids"' not in response.content
    assert b"Preview erasure" not in response.content
    assert viewer_client.get(reverse("privacy:export"), {"q": person.email}).status_code == 200


def test_a_viewer_cannot_preview_or_confirm_an_erasure(viewer_client, person):
    selection = {"q": person.email, "reference": "T-1", "order_ids": [str(person.eligible.pk)]}

    preview = viewer_client.post(reverse("privacy:erasure-preview"), selection)
    confirm = viewer_client.post(reverse("privacy:erasure-confirm"), selection)

    assert preview.status_code == 403
    assert confirm.status_code == 403
    person.eligible.refresh_from_db()
    assert not person.eligible.anonymized
    assert not ErasureRequest.objects.exists()


def test_a_viewer_cannot_place_a_legal_hold(viewer_client, person):
    response = viewer_client.post(
        reverse("privacy:hold-place", kwargs={"pk": person.eligible.pk}), {"reason": "Chargeback"}
    )

    assert response.status_code == 403
    assert not person.eligible.holds.exists()
    # ...and the order page offers no form to try.
    page = viewer_client.get(reverse("privacy:order", kwargs={"pk": person.eligible.pk}))
    assert b"Place a legal hold" not in page.content


def test_every_form_of_the_officer_pages_carries_a_csrf_token(officer_client, person):
    pages = [
        officer_client.get(reverse("privacy:search"), {"q": person.email}),
        officer_client.get(reverse("privacy:order", kwargs={"pk": person.eligible.pk})),
        officer_client.post(
            reverse("privacy:erasure-preview"),
            {"q": person.email, "reference": "T-1", "order_ids": [str(person.eligible.pk)]},
        ),
    ]
    for response in pages:
        html = response.content.decode()
        post_forms = html.count('method="post"')
        assert post_forms >= 1
        assert html.count("csrfmiddlewaretoken") == post_forms


def test_pages_with_personal_data_are_never_cached(officer_client, person):
    for response in (
        officer_client.get(reverse("privacy:search"), {"q": person.email}),
        officer_client.get(reverse("privacy:export"), {"q": person.email}),
    ):
        assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_logout_by_get_leads_somewhere_and_post_logs_out(client, officer):
    client.force_login(officer)
    assert client.get("/privacy/logout/").url == "/privacy/"
    client.post("/privacy/logout/")
    assert client.get("/privacy/logout/").url == "/privacy/login/"
    assert client.get("/privacy/").status_code == 302


@pytest.mark.parametrize(
    ("path", "login"),
    [
        ("/privacy/people/?q=ada.subject%40example.com", "/privacy/login/?next=/privacy/people/"),
        ("/privacy/usages/?customer_email=ada%40example.com&code=X", "/privacy/login/?next=/privacy/usages/"),
        ("/admin/orders/order/?q=ada%40example.com", "/admin/login/?next=/admin/orders/order/"),
    ],
)
def test_the_login_redirect_keeps_the_page_but_never_its_query(client, db, path, login):
    # A search's query carries an email; `next=` would put it in the login page's URL, and so in
    # access logs, browser history and Referer headers.
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == login
