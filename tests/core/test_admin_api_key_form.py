"""The admin's API key form and other admin edges: each test failed before its fix."""

import re

from core.models import ApiKey

KEYS_URL = "/admin/core/apikey/"


def test_the_add_key_form_shows_no_label_the_new_key_will_not_get(admin_client, admin_user):
    form = admin_client.get(f"{KEYS_URL}add/").content.decode()

    assert not re.search(r"Key-\d+", form)
    assert 'name="name"' in form and 'name="user"' in form and 'name="expires_at_0"' in form


def test_a_key_added_still_shows_its_label_and_dates_once_made(admin_client, admin_user):
    response = admin_client.post(
        f"{KEYS_URL}add/", {"name": "qa", "user": admin_user.pk, "expires_at_0": "", "expires_at_1": ""}
    )
    key = ApiKey.objects.get(name="qa")

    change = admin_client.get(f"{KEYS_URL}{key.pk}/change/").content.decode()

    assert response.status_code == 302
    assert key.label in change
    assert "Last used at" in change and "Revoked at" in change
