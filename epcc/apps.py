from django.apps import AppConfig


class EpccConfig(AppConfig):
    name = "epcc"
    verbose_name = "EPCC-compatible API: endpoints, documents, importing"
