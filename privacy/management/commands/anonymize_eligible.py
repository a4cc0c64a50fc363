"""python manage.py anonymize_eligible --orders-older-than DAYS [--usages-older-than DAYS]
[--dry-run] [--batch-size N] [--wait]

The retention run. Anonymizes every eligible order created more than DAYS
ago (statuses allow it, not anonymized, not under an active legal hold) and,
when asked, every code usage used more than DAYS ago, as one job per kind of
record (core/jobs.py), in chunks that each commit on their own. By default
it queues the jobs for the workers and returns; with --wait it runs them
here, with a progress bar. Interrupt it at any time; run it again to finish.
"""

import getpass
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from core.audit import Actor
from core.jobs import job_progress, job_run, jobs_chunk_size
from privacy.retention import retention_counts, retention_start


def positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Anonymize every eligible order (and code usage) older than a number of days, as jobs."

    def add_arguments(self, parser):
        parser.add_argument("--orders-older-than", type=positive, required=True, metavar="DAYS")
        parser.add_argument("--usages-older-than", type=positive, default=None, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be anonymized.")
        parser.add_argument(
            "--batch-size", type=int, default=None, metavar="N", help="Records per chunk (JOBS_CHUNK_SIZE)."
        )
        parser.add_argument(
            "--wait", action="store_true", help="Run the jobs here, with a progress bar, not on a worker."
        )

    def handle(self, *, orders_older_than, usages_older_than, dry_run, batch_size, wait, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        # The audit trail names the run and who ran it (an OS account name, not a data subject).
        actor = Actor.system(f"anonymize_eligible ({_os_user()})"[:150])
        now = timezone.now()
        runs = [("orders", orders_older_than)]
        if usages_older_than is not None:
            runs.append(("usages", usages_older_than))

        for label, days in runs:
            cutoff = now - timedelta(days=days)
            counted = retention_counts(record_type=label, cutoff=cutoff)
            if dry_run:
                held = f", {counted.held:,} held" if label == "orders" else ""
                self.stdout.write(
                    f"{label}: {counted.candidates:,} would be anonymized (older than {days} days){held}"
                )
                continue
            job = retention_start(
                record_type=label,
                cutoff=cutoff,
                actor=actor,
                chunk_size=batch_size or jobs_chunk_size(),
                defer=not wait,
            )
            if not wait:
                self.stdout.write(
                    f"{label}: job {job.pk} queued ({counted.candidates:,} eligible now). "
                    f"A worker runs it (python manage.py procrastinate worker); watch it with "
                    f"python manage.py job_status {job.pk}"
                )
                continue
            # tqdm draws with carriage returns: give it the raw stream, not the line-ending wrapper.
            with tqdm(total=counted.candidates, unit=label[:-1], desc=label, file=self.stderr._out) as bar:
                job = job_run(job_id=job.pk, on_chunk=bar.update, reraise=True)
            progress = job_progress(job)
            if job.status != "done":
                raise CommandError(f"{label}: job {job.pk} ended {job.status}. {progress.error}")
            line = f"{label}: {progress.changed:,} anonymized"
            if label == "orders":
                line += f", {counted.held:,} skipped (legal hold)"
            line += f", {progress.refused:,} refused (changed meanwhile)"
            if progress.unchanged:
                line += f", {progress.unchanged:,} already anonymized meanwhile"
            self.stdout.write(self.style.SUCCESS(line))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
