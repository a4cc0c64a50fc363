"""python manage.py job_status JOB_ID [--follow]

Where a job stands (core/jobs.py): status, records done of total, rate, time
left, and its audit batches once done. --follow prints a line a second until
it ends.
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.jobs import job_progress
from core.models import JOB_FINISHED, Job


class Command(BaseCommand):
    help = "Show a job's progress."

    def add_arguments(self, parser):
        parser.add_argument("job_id")
        parser.add_argument("--follow", action="store_true", help="Print its progress until it ends.")

    def handle(self, *, job_id, follow, **options):
        try:
            job = Job.objects.get(pk=job_id)
        except (Job.DoesNotExist, ValidationError) as exc:
            raise CommandError(f"No job {job_id}.") from exc
        while True:
            progress = job_progress(job)
            total = "?" if progress.total is None else f"{progress.total:,}"
            line = f"{job.kind} {job.pk}: {progress.status}, {progress.done:,}/{total}"
            if progress.rate:
                line += f", {progress.rate:,.0f}/s"
            if progress.seconds_left:
                line += f", {progress.seconds_left:,.0f} s left"
            if progress.error:
                line += f" ({progress.error})"
            self.stdout.write(line)
            if not follow or progress.status in JOB_FINISHED:
                break
            time.sleep(1)
        if progress.status in JOB_FINISHED and progress.batch_ids:
            self.stdout.write(f"audit batches: {', '.join(str(b) for b in progress.batch_ids)}")
