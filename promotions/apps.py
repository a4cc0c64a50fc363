from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = "Promotions"

    def ready(self):
        from core.jobs import job_kind_register
        from promotions.jobs import USAGES_ANONYMIZE

        job_kind_register(USAGES_ANONYMIZE)
