from django.apps import AppConfig


class ConnectorConfig(AppConfig):
    name = "connector"
    verbose_name = "EPCC connector: sync from the store, push anonymizations to it"

    def ready(self):
        from connector import checks  # noqa: F401  (registers the system checks)
