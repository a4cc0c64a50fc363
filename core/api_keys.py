"""API keys: issued once, stored as a hash, revocable."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.models import AccessToken, ApiKey

# Access tokens start with this so they are never mistaken for "<key_id>.<secret>".
ACCESS_TOKEN_PREFIX = "at_"  # noqa: S105 (a prefix, not a secret)


def secret_hash(secret: str) -> str:
    # The secret is 256 random bits, so one SHA-256 is enough (no stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, user, expires_at=None) -> tuple[ApiKey, str]:
    """A new key for `user`; returns it with its Bearer token, which is never stored.

    The token reads "<key_id>.<secret>": the public id finds the key, the
    secret proves it.
    """
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(name=name, user=user, secret_hash=secret_hash(secret), expires_at=expires_at)
    return key, f"{key.key_id}.{secret}"


def api_key_for_token(token: str) -> ApiKey | None:
    """The usable key a Bearer token names, or None (unknown, wrong, revoked, expired)."""
    key_id, _, secret = token.partition(".")
    # ASCII digits within a BigInteger only: "²".isdigit() is true, and a larger
    # number would be a database error rather than "no such key".
    if not (key_id.isascii() and key_id.isdigit()) or not secret or len(key_id) > 19:
        return None
    if int(key_id) >= 2**63:
        return None
    key = ApiKey.objects.usable().select_related("user").filter(key_id=int(key_id)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash(secret)):
        return None
    if not key.user.is_active:
        return None
    return key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def access_token_issue(*, client_id: str, client_secret: str) -> tuple[AccessToken, str] | None:
    """A short-lived access token for the key these client credentials name, or None.

    EPCC's client_credentials grant: the client id is the key's public id and
    the secret is the secret part of its token. Only a hash of the access
    token is stored; it lives settings.API_ACCESS_TOKEN_SECONDS and dies with
    its key (revocation or expiry).
    """
    api_key = api_key_for_token(f"{client_id}.{client_secret}")
    if api_key is None:
        return None
    token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    access_token = AccessToken.objects.create(
        api_key=api_key,
        token_hash=secret_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.API_ACCESS_TOKEN_SECONDS),
    )
    return access_token, token


def api_key_for_access_token(token: str) -> ApiKey | None:
    """The usable key behind an unexpired access token, or None."""
    if not token.startswith(ACCESS_TOKEN_PREFIX) or len(token) > 200:
        return None
    now = timezone.now()
    access_token = (
        AccessToken.objects.select_related("api_key__user")
        .filter(token_hash=secret_hash(token), expires_at__gt=now)
        .filter(api_key__in=ApiKey.objects.usable(now))
        .first()
    )
    if access_token is None or not access_token.api_key.user.is_active:
        return None
    return access_token.api_key


def api_key_for_bearer(token: str) -> ApiKey | None:
    """The key a Bearer token stands for: an API key token or an access token."""
    if token.startswith(ACCESS_TOKEN_PREFIX):
        return api_key_for_access_token(token)
    return api_key_for_token(token)
