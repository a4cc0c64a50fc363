"""Keep the usage lists index-only: autovacuum the usages after 1% of them changed, not 20%.

The lists count and page through (promotion[, code], used_on, id) indexes
with index-only scans, which stay index-only only on pages the visibility
map marks all-visible. Every anonymized usage is an updated row whose page
is no longer all-visible until a VACUUM: after 100,000 usages anonymized at
random among a million, the count of a 25,000-usage list visited the table
for most entries and took several times longer. PostgreSQL's default waits
for 20% of the table (200,000 rows of a million) to change before it
vacuums; here 1% (plus 1,000 rows) does, for updates and inserts alike, and
analyzes as often, so the planner's estimates past the exact count follow.
Nothing to do on other databases.
"""

from django.db import migrations

TABLE = "promotions_codeusage"
SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0.01",
    "autovacuum_vacuum_threshold": "1000",
    "autovacuum_vacuum_insert_scale_factor": "0.01",
    "autovacuum_vacuum_insert_threshold": "1000",
    "autovacuum_analyze_scale_factor": "0.01",
}


def set_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        values = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
        schema_editor.execute(f"ALTER TABLE {TABLE} SET ({values})")


def reset_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET ({', '.join(SETTINGS)})")


class Migration(migrations.Migration):
    dependencies = [
        ("promotions", "0003_usage_code_statistics"),
    ]

    operations = [migrations.RunPython(set_autovacuum, reset_autovacuum)]
