"""An index on the audit records' batch_id: the audit trail filtered by batch (a job's page links each chunk's).

Built CONCURRENTLY (outside a transaction): a large audit trail keeps taking
inserts while it is built.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0007_erasure_request_case_file"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="auditrecord",
            index=models.Index(fields=["batch_id"], name="audit_batch_idx"),
        ),
    ]
