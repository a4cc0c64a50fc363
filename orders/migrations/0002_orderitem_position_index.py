"""Items read in document order from one index: (order, position, id) replaces the FK's own index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        # The new index first, so that order_id is never without one.
        migrations.AddIndex(
            model_name="orderitem",
            index=models.Index(fields=["order", "position", "id"], name="orderitem_order_position_idx"),
        ),
        migrations.AlterField(
            model_name="orderitem",
            name="order",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="orders.order",
            ),
        ),
    ]
