"""The ground the product stands on: settings from the environment, the group, codes, indexes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from promotions.models import CodeUsage, PromotionCode

ROOT = Path(__file__).resolve().parents[2]


def settings_under(**env) -> dict:
    """The database and debug settings a fresh process reads from these variables."""
    script = (
        "import json, django; from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps({'engine': d['ENGINE'], 'name': str(d['NAME']), 'host': d['HOST'], "
        "'debug': settings.DEBUG, "
        "'hosts': settings.ALLOWED_HOSTS}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean | {"DJANGO_SETTINGS_MODULE": "backoffice.settings"} | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_the_embedded_postgresql_in_the_ignored_var_folder_and_debug():
    values = settings_under()
    assert values["engine"] == "backoffice.embedded_db"
    assert values["host"] == str(ROOT / "var" / "pgdata")
    assert values["debug"] is True
    assert "/var/" in (ROOT / ".gitignore").read_text().split()


def test_a_database_url_of_another_kind_is_refused():
    script = "import django; django.setup()"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean
        | {"DJANGO_SETTINGS_MODULE": "backoffice.settings", "DATABASE_URL": "mysql://root@127.0.0.1/x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL server" in result.stderr


def test_database_url_selects_postgresql_through_psycopg3():
    values = settings_under(DATABASE_URL="postgres://postgres@127.0.0.1:5432/backoffice")
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "backoffice"
    import psycopg  # psycopg 3, which Django's postgresql backend prefers

    assert psycopg.__version__.startswith("3.")


def test_allowed_hosts_and_debug_come_from_the_environment():
    values = settings_under(
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="a.example, b.example"
    )
    assert values["debug"] is False
    assert values["hosts"] == ["a.example", "b.example"]


@pytest.mark.django_db
def test_privacy_officers_group_may_view_and_anonymize_both():
    group = Group.objects.get(name="Privacy officers")
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert {
        ("orders", "view_order"),
        ("orders", "anonymize_order"),
        ("promotions", "view_codeusage"),
        ("promotions", "view_promotion"),
        ("promotions", "anonymize_codeusage"),
    } <= codenames
    assert not any(codename.startswith("delete_") for _, codename in codenames)


@pytest.mark.django_db(transaction=True)
def test_the_group_migration_is_reversible():
    call_command("migrate", "core", "0001", verbosity=0)
    assert not Group.objects.filter(name="Privacy officers").exists()
    # Forward for every app: going back to core 0001 also unapplied the apps that depend on core.
    call_command("migrate", verbosity=0)
    assert Group.objects.filter(name="Privacy officers").exists()


@pytest.mark.django_db
def test_a_code_is_unique_in_its_promotion_whatever_its_case(make_promotion):
    promotion = make_promotion(codes=("Summer10",))
    other = make_promotion(codes=("SUMMER10",))  # the same code in another promotion is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        PromotionCode.objects.create(promotion=promotion, code="summer10")
    assert PromotionCode.objects.named("sUmMeR10").count() == 2
    assert PromotionCode.objects.filter(promotion=other).named("summer10").exists()


@pytest.mark.django_db
def test_the_indexes_the_api_queries_need_exist():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CodeUsage._meta.db_table)
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"]}
    assert ("promotion_id", "promotion_code_id", "used_on", "id") in indexed
    assert ("promotion_code_id", "used_on", "id") in indexed
    assert ("promotion_id", "used_on", "id") in indexed
