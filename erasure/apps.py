from django.apps import AppConfig


class ErasureConfig(AppConfig):
    name = "erasure"
    verbose_name = "Erasure requests"

    def ready(self):
        from core.jobs import job_kind_register
        from erasure.jobs import ERASURE_REQUEST_RUN

        job_kind_register(ERASURE_REQUEST_RUN)
