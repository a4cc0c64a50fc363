"""The database cache's table (settings.CACHES): throttle counts every worker shares."""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # createcachetable makes the table of each database cache in settings.CACHES, and skips
    # one that exists; it writes nothing when no cache is a database cache.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)
    for cache in settings.CACHES.values():
        if cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
            # Unlogged: no WAL, so a throttle's write per API request waits for no disk flush;
            # a crash empties it, which a cache may.
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(cache['LOCATION'])} SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [("core", "0008_audit_batch_index")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
