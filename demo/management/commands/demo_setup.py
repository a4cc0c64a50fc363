"""python manage.py demo_setup: what `make run` does after migrating.

The first time (no orders yet): loads the EPCC seed examples and generated
demo data. Every time: makes sure the demo logins exist and prints them with
a fresh API token, also written to var/demo-api-token (readable by its owner
only) for the README's curl lines. Development only: refuses to run with
DJANGO_DEBUG off.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core.api_keys import api_key_create, api_key_revoke
from core.models import ApiKey
from orders.models import Order

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "epcc"
SEED_PROMOTION = "26067b82-a50c-462c-b3ed-1ca77aa13bd1"
DEMO_USERS = {
    # username: (password, superuser)
    "officer": ("officer-demo-password", False),
    "admin": ("admin-demo-password", True),
}
DEMO_KEY_NAME = "demo (make run)"


class Command(BaseCommand):
    help = "Load demo data the first time, ensure the demo logins, print them and a fresh API token."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=2000)
        parser.add_argument("--usages", type=int, default=20000)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where `make run` serves")
        parser.add_argument(
            "--token-file",
            default=None,
            help="where to write the fresh API token, for the README's curl lines "
            "(default: settings.DEMO_TOKEN_FILE, var/demo-api-token)",
        )

    def handle(self, *args, orders, usages, base_url, token_file, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_setup makes logins with published passwords; it runs only with DJANGO_DEBUG on."
            )
        if not Order.objects.exists():
            self.stdout.write("First run: loading the EPCC seed examples and demo data...")
            # demo_data wants an empty database, so it goes first.
            call_command("demo_data", orders=orders, usages=usages, seed=1, stdout=self.stdout)
            call_command("import_ep", str(FIXTURES / "seed_orders.json"), stdout=self.stdout)
            call_command(
                "import_ep", str(FIXTURES / "seed_usages.json"), promotion=SEED_PROMOTION, stdout=self.stdout
            )
        officer = self._user("officer")
        self._user("admin")
        for key in ApiKey.objects.usable().filter(name=DEMO_KEY_NAME):
            api_key_revoke(api_key=key)
        key, token = api_key_create(name=DEMO_KEY_NAME, user=officer)
        token_path = Path(token_file or settings.DEMO_TOKEN_FILE)
        token_path.parent.mkdir(parents=True, exist_ok=True)
        token_path.touch(mode=0o600)
        token_path.write_text(token + "\n")

        base = base_url.rstrip("/")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Demo logins (development only):",
                    f"  privacy officer  officer / {DEMO_USERS['officer'][0]}   {base}/privacy/",
                    f"  administrator    admin / {DEMO_USERS['admin'][0]}       {base}/admin/",
                    f"API token ({key.label}, acting as officer; earlier demo tokens revoked),"
                    f" also in {token_path}:",
                    f"  {token}",
                    "Try (the README's curl lines read it the same way):",
                    f"  T=$(cat {token_path})",
                    f'  curl -H "Authorization: Bearer $T" '
                    f"'{base}/v2/rule-promotions/{SEED_PROMOTION}/codes/bxgy/usages'",
                    f"API docs: {base}/api/docs/",
                    "",
                ]
            )
        )

    def _user(self, username: str):
        password, superuser = DEMO_USERS[username]
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_password(password)
            user.is_superuser = superuser
            user.save()
            if not superuser:
                user.groups.add(Group.objects.get(name="Privacy officers"))
        return user
