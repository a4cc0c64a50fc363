"""Tell PostgreSQL's planner that a usage's code determines its promotion.

Without it the planner multiplies the two columns' selectivities and, for a
popular code, estimates about half of the real number of usages; the API's
`meta.results.total` past its exact-count limit is that estimate
(core.pagination.count_results). Nothing to do on other databases.
"""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS usage_promotion_code_stats (dependencies, ndistinct) "
    "ON promotion_id, promotion_code_id FROM promotions_codeusage"
)
DROP = "DROP STATISTICS IF EXISTS usage_promotion_code_stats"


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("promotions", "0002_usage_used_on_index"),
    ]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
