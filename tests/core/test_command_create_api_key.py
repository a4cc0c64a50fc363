import io

import pytest
from django.core.management import CommandError, call_command

from core.api_keys import api_key_for_token
from core.models import ApiKey

pytestmark = pytest.mark.django_db


def run(*args, **options) -> list[str]:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out, **options)
    return out.getvalue().splitlines()


def test_prints_the_token_once_as_the_last_line_and_keeps_only_a_hash(officer):
    lines = run("erasure-bot", user="officer")
    token = lines[-1]
    key = ApiKey.objects.get()
    assert api_key_for_token(token) == key
    assert key.user == officer and key.name == "erasure-bot"
    assert token.split(".", 1)[1] not in key.secret_hash
    assert all(token not in line for line in lines[:-1])


def test_expiry(officer):
    run("short", user="officer", expires_in_days=1)
    assert ApiKey.objects.get().expires_at is not None


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("bot",), {"user": "nobody"}, "No user named 'nobody'"),
        (("  ",), {"user": "officer"}, "NAME must not be empty"),
        (("bot",), {"user": "officer", "expires_in_days": 0}, "at least 1"),
    ],
)
def test_bad_input_is_a_clear_error(officer, args, options, message):
    with pytest.raises(CommandError, match=message):
        run(*args, **options)
    assert not ApiKey.objects.exists()
