"""Django's PostgreSQL backend, starting the embedded server on a process's first connection."""

from django.db.backends.postgresql import base

from backoffice import embedded_db


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        embedded_db.ensure_running()
        return super().get_new_connection(conn_params)
