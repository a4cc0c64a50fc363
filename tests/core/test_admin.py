"""API keys (revoke, create once, no secret shown) and the read-only audit trail."""

import re
import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from core.api_keys import api_key_create, api_key_for_token
from core.audit import Actor, audit_records_create
from core.models import ApiKey, AuditRecord, Interface, RecordType
from tests.core.changelist import messages_of

KEYS_URL = "/admin/core/apikey/"
AUDIT_URL = "/admin/core/auditrecord/"


def test_the_key_pages_never_show_the_secret_hash(admin_client, admin_user):
    key, token = api_key_create(name="integration", user=admin_user)
    for url in (KEYS_URL, f"{KEYS_URL}{key.pk}/change/"):
        html = admin_client.get(url).content.decode()
        assert key.label in html
        assert key.secret_hash not in html
        assert token.partition(".")[2] not in html


def test_revoking_selected_keys_calls_the_service(admin_client, admin_user):
    key, token = api_key_create(name="integration", user=admin_user)
    keep, keep_token = api_key_create(name="other", user=admin_user)
    response = admin_client.post(
        KEYS_URL, {"action": "revoke_selected_keys", "_selected_action": [key.pk], "index": "0"}, follow=True
    )
    assert "Revoked 1 API key(s)." in messages_of(response)
    assert api_key_for_token(token) is None
    assert api_key_for_token(keep_token) == keep
    entry = LogEntry.objects.get(object_id=str(key.pk))
    assert "revoked_at" in entry.change_message


def test_a_key_made_in_the_admin_shows_its_token_once(admin_client, admin_user, officer):
    response = admin_client.post(
        f"{KEYS_URL}add/",
        {"name": "warehouse sync", "user": officer.pk, "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(name="warehouse sync")
    first = admin_client.get(response.url)
    [token] = [m for m in messages_of(first) if "shown this once" in m]
    token = re.search(r"copy it now: (\S+)$", token).group(1)
    assert api_key_for_token(token) == key and key.user == officer
    # Never again, and never in the history.
    assert token not in admin_client.get(response.url).content.decode()
    assert all(
        token.partition(".")[2] not in e.change_message + e.object_repr for e in LogEntry.objects.all()
    )


@pytest.fixture
def audit_trail(officer):
    order_id, usage_id = uuid.uuid4(), uuid.uuid4()
    now = timezone.now()
    audit_records_create(
        actor=Actor.for_user(officer),
        via=Interface.ADMIN,
        record_type=RecordType.ORDER,
        changed_fields={order_id: ["customer.email"]},
        at=now,
    )
    audit_records_create(
        actor=Actor.system("retention"),
        via=Interface.COMMAND,
        record_type=RecordType.CODE_USAGE,
        changed_fields={usage_id: ["customer_email"]},
        at=now,
    )
    return {"order": order_id, "usage": usage_id}


def listed(response) -> set:
    return {record.record_id for record in response.context["cl"].result_list}


def test_officers_read_the_audit_trail_filtered_and_searched(client, officer, audit_trail):
    client.force_login(officer)
    assert listed(client.get(AUDIT_URL)) == set(audit_trail.values())
    assert listed(client.get(AUDIT_URL, {"interface__exact": "admin"})) == {audit_trail["order"]}
    assert listed(client.get(AUDIT_URL, {"record_type__exact": "code_usage"})) == {audit_trail["usage"]}
    assert listed(client.get(AUDIT_URL, {"action__exact": "hold_placed"})) == set()
    assert listed(client.get(AUDIT_URL, {"q": str(audit_trail["usage"])})) == {audit_trail["usage"]}
    assert listed(client.get(AUDIT_URL, {"q": "officer"})) == {audit_trail["order"]}
    assert listed(client.get(AUDIT_URL, {"at__year": timezone.now().year})) == set(audit_trail.values())


def test_the_audit_trail_is_read_only(admin_client, audit_trail):
    record = AuditRecord.objects.get(record_id=audit_trail["order"])
    assert admin_client.get(f"{AUDIT_URL}add/").status_code == 403
    assert admin_client.post(f"{AUDIT_URL}{record.pk}/change/", {"actor": "someone"}).status_code == 403
    assert admin_client.post(f"{AUDIT_URL}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditRecord.objects.get(pk=record.pk).actor == "officer"


@pytest.mark.django_db
def test_the_admin_names_the_product(admin_client):
    assert "Privacy back-office administration" in admin_client.get("/admin/").content.decode()
