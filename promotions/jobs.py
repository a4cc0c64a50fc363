"""The job kinds of promotions (core/jobs.py), registered by PromotionsConfig.ready()."""

from core.admin_actions import anonymized_chunk, erasure_request_of
from core.audit import Actor
from core.jobs import ChunkResult, JobKind
from core.models import Interface, RecordType
from promotions.models import USAGE_PERSONAL_FIELDS, CodeUsage
from promotions.services import usages_anonymize

# What an anonymization masks, as the admin history names it (never a value).
USAGE_MASKED_FIELDS = ", ".join(USAGE_PERSONAL_FIELDS)


def usages_anonymize_chunk(*, ids, actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """One chunk of code usages to anonymize: all or nothing, as the service is (params: orders/jobs.py)."""
    outcome = usages_anonymize(
        usage_ids=ids, actor=actor, via=via, erasure_request=erasure_request_of(params)
    )
    return anonymized_chunk(
        outcome,
        model=CodeUsage,
        record_type=RecordType.CODE_USAGE,
        masked_fields=USAGE_MASKED_FIELDS,
        actor=actor,
        params=params,
    )


USAGES_ANONYMIZE = JobKind(
    name="usages.anonymize",
    label="Anonymize code usages",
    run_chunk=usages_anonymize_chunk,
    masks=(CodeUsage,),
)
