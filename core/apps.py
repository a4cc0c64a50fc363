from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Privacy core: audit trail, API keys, erasure requests"
