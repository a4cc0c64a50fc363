"""The connector's system check (a half-configured store) and its periodic tasks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector.checks import store_fully_configured

ROOT = Path(__file__).resolve().parents[2]
PERIODIC = (
    "import django; django.setup()\n"
    "from procrastinate.contrib.django import app\n"
    "import connector.tasks\n"
    "print(sorted(f'{name} {cron}' for (name, _), cron in "
    "((key, task.cron) for key, task in app.periodic_registry.periodic_tasks.items())))\n"
)


@pytest.mark.parametrize(
    ("values", "ids"),
    [
        ({}, []),
        ({"EPCC_API_BASE_URL": "http://store", "EPCC_CLIENT_ID": "1", "EPCC_CLIENT_SECRET": "s"}, []),
        ({"EPCC_CLIENT_ID": "1"}, ["connector.W001"]),
        ({"EPCC_API_BASE_URL": "http://store", "EPCC_CLIENT_SECRET": "s"}, ["connector.W001"]),
        (
            {"EPCC_API_BASE_URL": "store", "EPCC_CLIENT_ID": "1", "EPCC_CLIENT_SECRET": "s"},
            ["connector.W002"],
        ),
    ],
)
def test_a_half_configured_store_is_warned_of(settings, values, ids):
    for name in ("EPCC_API_BASE_URL", "EPCC_CLIENT_ID", "EPCC_CLIENT_SECRET"):
        setattr(settings, name, values.get(name, ""))
    assert [w.id for w in store_fully_configured(None)] == ids


def test_the_half_configured_warning_names_what_is_missing(settings):
    settings.EPCC_API_BASE_URL, settings.EPCC_CLIENT_ID, settings.EPCC_CLIENT_SECRET = (
        "",
        "1",
        "a-secret-value",
    )
    (warning,) = store_fully_configured(None)
    assert "EPCC_CLIENT_ID, EPCC_CLIENT_SECRET set but EPCC_API_BASE_URL not" in warning.msg
    assert "a-secret-value" not in warning.msg


def periodic_tasks(**env) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EPCC_")} | env
    environment.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    done = subprocess.run(
        [sys.executable, "-c", PERIODIC],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_sync_runs_as_a_periodic_job_only_when_asked():
    assert "connector.sync" not in periodic_tasks()
    assert "connector.sync */15 * * * *" in periodic_tasks(EPCC_SYNC_CRON="*/15 * * * *")
    assert "connector.push_due * * * * *" in periodic_tasks()
