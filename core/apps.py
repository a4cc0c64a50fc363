from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Privacy core: audit trail, API keys, erasure requests"

    def ready(self):
        from core import checks  # noqa: F401  (registers the system checks)
