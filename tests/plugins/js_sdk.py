"""EPCC's JavaScript SDK against a live server (a plugin of the root conftest): `epcc_sdk`.

The SDK (npm `@elasticpath/js-sdk`, pinned in tests/sdk/package-lock.json and
installed by `make sdk`, which `make test` runs) is driven unchanged by
tests/sdk/call.js through node, against pytest-django's `live_server`: it
authenticates itself with client_credentials on POST /oauth/access_token,
then calls the API as it would call EPCC. Files named `test_*_sdk.py` get the
`sdk` marker. The live server sees only committed rows: tests using it run
with transaction=True (the `live_server` fixture asks for it).
"""

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SDK_DIR = Path(__file__).resolve().parents[2] / "tests" / "sdk"
NODE = shutil.which("node") or "/usr/bin/node"
SDK_SECONDS = 120


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name.endswith("_sdk.py"):
            item.add_marker(pytest.mark.sdk)


@pytest.fixture
def epcc_sdk(live_server):
    """epcc_sdk(token, steps) -> one {"ok", "value" | "error"} per step (tests/sdk/call.js).

    `token` is an API key's Bearer token ("<key_id>.<secret>"): the SDK gets its
    client id and secret from it, as an EPCC integration gets them from the store.
    A step is {"endpoint": "ErasureRequests", "chain": [["Filter", [type, id]]],
    "call": "All", "args": [...], "until": {...}}; "$N.a.b" in args is step N's answer.
    """
    if not (SDK_DIR / "node_modules" / "@elasticpath" / "js-sdk").is_dir():
        pytest.fail("EPCC's JavaScript SDK is not installed; run `make sdk`", pytrace=False)
    host = urlsplit(live_server.url).netloc

    def run(token: str, steps: list[dict], **options) -> list[dict]:
        client_id, _, client_secret = token.partition(".")
        config = {"host": host, "protocol": "http", "client_id": client_id, "client_secret": client_secret}
        completed = subprocess.run(
            [NODE, "call.js"],
            cwd=SDK_DIR,
            input=json.dumps(config | options | {"steps": steps}),
            capture_output=True,
            text=True,
            timeout=SDK_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"the SDK runner failed:\n{completed.stderr}", pytrace=False)
        return json.loads(completed.stdout)

    return run
