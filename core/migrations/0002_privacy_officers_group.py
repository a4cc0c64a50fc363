"""The group "Privacy officers": view orders, usages and promotions; anonymize both.

Also lets them place legal holds and read the audit trail, which the privacy
pages need.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Privacy officers"
PERMISSIONS = [
    ("orders", "view_order"),
    ("orders", "anonymize_order"),
    ("orders", "view_legalhold"),
    ("orders", "add_legalhold"),
    ("orders", "change_legalhold"),
    ("promotions", "view_promotion"),
    ("promotions", "view_promotioncode"),
    ("promotions", "view_codeusage"),
    ("promotions", "anonymize_codeusage"),
    ("core", "view_auditrecord"),
    ("core", "view_erasurerequest"),
    ("core", "add_erasurerequest"),
]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now.
    for app_label in ("orders", "promotions", "core"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # the migration state's stand-in lacks it
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("orders", "0001_initial"),
        ("promotions", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
