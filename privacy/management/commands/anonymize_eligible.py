"""python manage.py anonymize_eligible --orders-older-than DAYS [--usages-older-than DAYS]
[--dry-run] [--batch-size N]

The retention job. Anonymizes every eligible order created more than DAYS
ago (statuses allow it, not anonymized, not under an active legal hold) and,
when asked, every code usage used more than DAYS ago, in batches that each
commit on their own. Interrupt it at any time; run it again to finish.
"""

import getpass
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from core.audit import Actor
from privacy.retention import DEFAULT_BATCH_SIZE, orders_anonymize_eligible, usages_anonymize_eligible


def positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Anonymize every eligible order (and code usage) older than a number of days, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--orders-older-than", type=positive, required=True, metavar="DAYS")
        parser.add_argument("--usages-older-than", type=positive, default=None, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be anonymized.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N")

    def handle(self, *, orders_older_than, usages_older_than, dry_run, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        # The audit trail names the job and who ran it (an OS account name, not a data subject).
        actor = Actor.system(f"anonymize_eligible ({_os_user()})"[:150])
        now = timezone.now()
        jobs = [("orders", orders_anonymize_eligible, orders_older_than)]
        if usages_older_than is not None:
            jobs.append(("usages", usages_anonymize_eligible, usages_older_than))

        for label, job, days in jobs:
            cutoff = now - timedelta(days=days)
            counted = job(cutoff=cutoff, actor=actor, dry_run=True)
            if dry_run:
                held = f", {counted.held:,} held" if label == "orders" else ""
                self.stdout.write(
                    f"{label}: {counted.candidates:,} would be anonymized (older than {days} days){held}"
                )
                continue
            # tqdm draws with carriage returns: give it the raw stream, not the line-ending wrapper.
            with tqdm(total=counted.candidates, unit=label[:-1], desc=label, file=self.stderr._out) as bar:
                summary = job(cutoff=cutoff, actor=actor, batch_size=batch_size, on_batch=bar.update)
            line = f"{label}: {summary.anonymized:,} anonymized"
            if label == "orders":
                line += f", {summary.held:,} skipped (legal hold)"
            line += f", {summary.refused:,} refused (changed meanwhile)"
            if summary.already_anonymized:
                line += f", {summary.already_anonymized:,} already anonymized meanwhile"
            self.stdout.write(self.style.SUCCESS(line))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
