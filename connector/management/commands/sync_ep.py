"""python manage.py sync_ep [--full]

Pulls orders and promotion code usages from the EPCC store named by
EPCC_API_BASE_URL, EPCC_CLIENT_ID and EPCC_CLIENT_SECRET (docs/connector.md),
with a progress bar. Resumes where the last run stopped; `--full` reads
everything again. A record anonymized here stays anonymized.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from connector.client import StoreAuthError, StoreClient, StoreError, StoreUnavailable
from connector.sync import ORDERS, Progress, SyncError, sync_run

AUTH_FAILED = (
    "The store refused the client credentials ({error}). Check EPCC_CLIENT_ID and EPCC_CLIENT_SECRET; "
    "nothing was changed."
)
UNREACHABLE = (
    "The store could not be reached: {error}. What was synced before stays; run sync_ep again to resume."
)


class Command(BaseCommand):
    help = "Pull orders and code usages from the EPCC store (EPCC_API_BASE_URL); resumes where it stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true", help="read every order again, not only the changed ones"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args, full, no_progress, **options):
        bars: dict[str, tqdm] = {}

        def total(what: str, count: int | None) -> None:
            for bar in bars.values():  # one walk at a time: the last one's bar ends here
                bar.close()
            if not no_progress:
                # tqdm draws with carriage returns: give it the raw stream, not the line-ending wrapper.
                bars[what] = tqdm(total=count, unit=what[:-1], desc=what, file=self.stderr._out)

        def advance(what: str, count: int) -> None:
            if what in bars:
                bars[what].update(count)

        try:
            with StoreClient.from_settings() as client:
                self.stdout.write(f"Syncing from {client.store.base_url} ...")
                result = sync_run(client=client, full=full, progress=Progress(total=total, advance=advance))
        except StoreAuthError as error:
            raise CommandError(AUTH_FAILED.format(error=error)) from None
        except StoreUnavailable as error:
            raise CommandError(UNREACHABLE.format(error=error)) from None
        except (StoreError, SyncError) as error:
            raise CommandError(
                f"{str(error).rstrip('.')}. What was synced before stays; run sync_ep again to resume."
            ) from None
        finally:
            for bar in bars.values():
                bar.close()
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        line = (
            f"{ORDERS}: {result.orders_created:,} created, {result.orders_updated:,} updated; "
            f"usages: {result.usages_created:,} created, {result.usages_updated:,} updated "
            f"({result.promotions:,} promotions)"
        )
        if result.kept_anonymized:
            line += f"; {result.kept_anonymized:,} already anonymized here kept their masked values"
        self.stdout.write(line + ".")
