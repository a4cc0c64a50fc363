import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.models import ApiKey
from orders.models import Order
from promotions.models import CodeUsage

pytestmark = pytest.mark.django_db


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
