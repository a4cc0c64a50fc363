"""EPCC's JavaScript SDK reads what the connector reads from this project's API (a second
instance, conftest.py): orders by updated_at (filter and sort), rule promotions, their codes."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "sdk"


def sdk_reads(store) -> dict:
    if not (JS / "node_modules" / "@elasticpath" / "js-sdk").is_dir():
        pytest.fail("EPCC's JavaScript SDK is not installed: run `make js-sdk`", pytrace=False)
    env = os.environ | {"EPCC_CLIENT_ID": store.client_id, "EPCC_CLIENT_SECRET": store.client_secret}
    done = subprocess.run(
        [shutil.which("node") or "node", "connector_reads.mjs", store.base_url],
        cwd=JS,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_sdk_reads_orders_by_updated_at_and_the_promotions_codes(store):
    read = sdk_reads(store)
    by_change = [row[0] for row in store.sql("SELECT id FROM orders_order ORDER BY updated_at, id")]
    assert read["oldest"] == [str(pk) for pk in by_change[:3]]
    assert read["newest"] == [str(by_change[-1])]
    # ge(updated_at, the third's time): from the third on (times are distinct in the demo data).
    assert read["changed"] == [str(pk) for pk in by_change[2:4]]
    assert read["changed_total"] == len(by_change) - 2
    promotions = store.sql("SELECT id, name FROM promotions_promotion ORDER BY created_at, id")
    assert read["promotions"] == [[str(pk), "rule_promotion", name] for pk, name in promotions]
    codes = store.sql(
        "SELECT code FROM promotions_promotioncode WHERE promotion_id = %s ORDER BY code, id",
        [promotions[0][0]],
    )
    assert read["codes"] == [code for (code,) in codes]
