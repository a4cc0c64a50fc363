from django.apps import AppConfig


class ErasureConfig(AppConfig):
    name = "erasure"
    verbose_name = "Erasure requests"

    def ready(self):
        from core.erasure_filing import ErasureFiling, erasure_filing_register
        from core.jobs import job_kind_register
        from erasure.jobs import ERASURE_REQUEST_RUN
        from erasure.services import erasure_request_open, erasure_request_records_anonymized

        job_kind_register(ERASURE_REQUEST_RUN)
        erasure_filing_register(
            ErasureFiling(open=erasure_request_open, record=erasure_request_records_anonymized)
        )
