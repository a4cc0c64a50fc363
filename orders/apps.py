from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core.jobs import job_kind_register
        from orders.jobs import ORDERS_ANONYMIZE

        job_kind_register(ORDERS_ANONYMIZE)
