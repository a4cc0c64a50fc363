import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.models import ApiKey
from orders.models import Order
from promotions.models import CodeUsage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def token_file(settings, tmp_path):
    settings.DEMO_TOKEN_FILE = tmp_path / "var" / "demo-api-token"
    return settings.DEMO_TOKEN_FILE


def run(**options) -> str:
    out = io.StringIO()
    call_command("demo_setup", orders=40, usages=100, stdout=out, **options)
    return out.getvalue()


@override_settings(DEBUG=True)
def test_first_run_loads_seeds_and_demo_data_and_prints_working_logins():
    output = run(base_url="http://127.0.0.1:9000")
    assert Order.objects.filter(pk="0b508e02-d3de-4673-83ca-087875d06d8f").exists()
    assert CodeUsage.objects.filter(pk="96a80700-4895-4d74-b96f-3ea39417ed29").exists()
    assert Order.objects.count() == 42
    officer = authenticate(username="officer", password="officer-demo-password")
    assert officer is not None and officer.has_perm("orders.anonymize_order")
    assert authenticate(username="admin", password="admin-demo-password").is_superuser
    assert "http://127.0.0.1:9000/privacy/" in output


@override_settings(DEBUG=True)
def test_second_run_keeps_the_data_and_replaces_the_demo_token():
    run()
    orders = Order.objects.count()
    run()
    assert Order.objects.count() == orders
    assert ApiKey.objects.usable().count() == 1
    assert ApiKey.objects.count() == 2


@override_settings(DEBUG=False)
def test_refused_in_production():
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        run()


@override_settings(DEBUG=True)
def test_the_token_is_written_where_the_readmes_curl_lines_read_it(token_file):
    from rest_framework.test import APIClient

    output = run()
    token = token_file.read_text().strip()
    assert token in output and f"T=$(cat {token_file})" in output
    assert token_file.stat().st_mode & 0o077 == 0  # its owner's only
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/v2/orders").status_code == 200
    # A second run writes the new token over the old (revoked) one.
    run()
    assert token_file.read_text().strip() != token


def test_the_readme_reads_the_token_file():
    from backoffice import settings as project

    readme = (project.BASE_DIR / "README.md").read_text()
    assert "T=$(cat var/demo-api-token)" in readme
    assert project.DEMO_TOKEN_FILE == project.BASE_DIR / "var" / "demo-api-token"
    assert "../shared" not in readme
