from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy officer's pages"

    def ready(self):
        from core.jobs import job_kind_register
        from privacy.retention import ORDERS_RETENTION, USAGES_RETENTION

        job_kind_register(ORDERS_RETENTION)
        job_kind_register(USAGES_RETENTION)
