"""The API's throttle counts (core/throttling.py), in an unlogged table; the database cache's
table (0009), whose only use they were, goes."""

from django.db import migrations, models

# As Django's createcachetable made it (0009), for a migration back.
CACHE_TABLE = """
CREATE UNLOGGED TABLE IF NOT EXISTS "core_cache" (
    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
    "value" text NOT NULL,
    "expires" timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS "core_cache_expires" ON "core_cache" ("expires");
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0011_upstream_outbox")]

    operations = [
        migrations.CreateModel(
            name="ThrottleCount",
            fields=[
                (
                    "key",
                    models.CharField(
                        help_text="SHA-256 of the scope and the client.",
                        max_length=64,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "window_end",
                    models.DateTimeField(help_text="When the window ends and the count starts again."),
                ),
                (
                    "count",
                    models.PositiveIntegerField(help_text="Requests in the window (at most the limit + 1)."),
                ),
            ],
        ),
        # No WAL: a count's write on each API call waits for no disk flush; a crash only
        # empties the counts.
        migrations.RunSQL('ALTER TABLE "core_throttlecount" SET UNLOGGED', migrations.RunSQL.noop),
        migrations.RunSQL('DROP TABLE IF EXISTS "core_cache"', CACHE_TABLE),
    ]
