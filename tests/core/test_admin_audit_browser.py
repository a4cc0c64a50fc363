"""An audit record's page in the admin, in a real Chromium: its title and fields read as sentences.

serialized_rollback: the transactional test before it (tests/backoffice) may have left no permissions.
"""

import pytest

from core.audit import Actor
from core.models import AuditRecord, Interface
from promotions.services import usages_anonymize

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_audit_record_reads_as_people_read_it(page, screenshot, officer, make_usage):
    usage = make_usage()
    usages_anonymize(usage_ids=[usage.pk], actor=Actor.for_user(officer), via=Interface.ADMIN)
    record = AuditRecord.objects.get(record_id=usage.pk)

    page.goto("/admin/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "officer-password-1")
    page.click("input[type=submit]")
    page.goto(f"/admin/core/auditrecord/{record.pk}/change/")
    screenshot("audit-record")

    title = page.locator("#content h2").first.inner_text()
    assert title == f"Anonymized: code usage {usage.pk}, by officer (Admin)"
    content = page.locator("#content").inner_text()
    assert "code_usage" not in content and "via admin" not in content
    assert "Fields:\ncustomer_email\n" in content and '["' not in content  # a list, not JSON
