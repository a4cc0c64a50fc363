"""API keys: issued once, stored as a hash, revocable."""

import hashlib
import hmac
import secrets

from django.utils import timezone

from core.models import ApiKey


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
    if not key_id.isdigit() or not secret or len(key_id) > 19:
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
