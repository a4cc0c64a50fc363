"""python manage.py create_api_key NAME --user USERNAME [--expires-in-days N]

Prints the new Bearer token once, as the last line of its output; only a
hash of it is stored, so it cannot be shown again (revoke and issue another).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.api_keys import api_key_create


class Command(BaseCommand):
    help = "Issue an API key acting as USERNAME; prints its Bearer token once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the key is for, e.g. 'erasure-bot'")
        parser.add_argument("--user", required=True, metavar="USERNAME", help="the user the key acts as")
        parser.add_argument("--expires-in-days", type=int, metavar="N", help="default: never expires")

    def handle(self, *args, name, user, expires_in_days, **options):
        name = name.strip()
        if not name:
            raise CommandError("NAME must not be empty.")
        User = get_user_model()
        try:
            owner = User.objects.get(**{User.USERNAME_FIELD: user})
        except User.DoesNotExist:
            raise CommandError(f"No user named {user!r}.") from None
        if not owner.is_active:
            raise CommandError(f"User {user!r} is inactive; a key acting as them would be refused.")
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            expires_at = timezone.now() + timedelta(days=expires_in_days)
        key, token = api_key_create(name=name, user=owner, expires_at=expires_at)
        until = f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
        self.stdout.write(f"API key {key.label} ({key.name}) acting as {owner.get_username()}{until}.")
        self.stdout.write(
            "The token is shown once; only its hash is kept. Use it as 'Authorization: Bearer <token>':"
        )
        self.stdout.write(token)
