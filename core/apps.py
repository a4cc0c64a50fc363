from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _raise_sqlite_parameter_limit(sender, connection, **kwargs):
    """SQLite since 3.32 accepts 32766 host parameters; Django 5.2 still assumes 999.

    With the real limit a batch of up to 1000 records is one INSERT on SQLite
    too, so a batch costs the same handful of statements on both databases.
    """
    if connection.vendor == "sqlite":
        import sqlite3

        if sqlite3.sqlite_version_info >= (3, 32):
            connection.features.max_query_params = 32766


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Privacy core: audit trail, API keys, erasure requests"

    def ready(self):
        connection_created.connect(_raise_sqlite_parameter_limit)
