"""Two indexes the new readers need: the contact email (Find a person and erasure requests match
it beside the customer's email; without it every email search read the whole table) and
(updated_at, id) (the EPCC connector walks a store's orders by updated_at). Built
concurrently: a large orders table keeps taking writes meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0003_masked_tables_fillfactor"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(Upper("contact_email"), name="order_contact_email_upper_idx"),
        ),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
        ),
    ]
