"""python manage.py demo_data --orders N --usages M [--seed S] [--today YYYY-MM-DD] [--replace]

Realistic, reproducible demo data: the same seed and the same --today give
the same rows, ids included. Bulk-written (COPY on PostgreSQL), one transaction.
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.data import DemoData, demo_data_load, demo_tables_clear, demo_tables_empty

NOT_EMPTY = (
    "There are already orders, promotions or code usages; "
    "pass --replace to delete them and load the demo data instead."
)


class Command(BaseCommand):
    help = "Load realistic, reproducible demo orders, promotions and code usages."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1000, help="Number of orders (default 1000).")
        parser.add_argument("--usages", type=int, default=5000, help="Number of code usages (default 5000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="The day the history ends (YYYY-MM-DD, default today in UTC); fix it to repeat a data set.",
        )
        parser.add_argument(
            "--replace", action="store_true", help="Delete existing orders, promotions and usages first."
        )

    def handle(self, *, orders, usages, seed, today, replace, **options):
        if orders < 0 or usages < 0:
            raise CommandError("--orders and --usages must not be negative.")
        started = time.monotonic()
        data = DemoData(orders=orders, usages=usages, seed=seed, today=today)

        reported: dict[str, int] = {}

        def progress(label, done, total):
            # About every tenth of the way, and at the end.
            tenth = done * 10 // max(total, 1)
            if tenth > reported.get(label, 0):
                reported[label] = tenth
                self.stdout.write(f"  {label}: {done:,}/{total:,} ({time.monotonic() - started:.1f}s)")
                self.stdout.flush()

        with transaction.atomic():
            if not demo_tables_empty():
                if not replace:
                    raise CommandError(NOT_EMPTY)
                demo_tables_clear()
            counts = demo_data_load(data, progress=progress)
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{label} {count:,}" for label, count in sorted(counts.items()))
        self.stdout.write(self.style.SUCCESS(f"Demo data (seed {seed}) loaded in {elapsed:.1f}s: {summary}"))
