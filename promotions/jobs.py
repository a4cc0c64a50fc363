"""The job kinds of promotions (core/jobs.py), registered by PromotionsConfig.ready()."""

from core.audit import Actor
from core.jobs import ChunkResult, JobKind
from core.models import Interface
from promotions.models import CodeUsage
from promotions.services import usages_anonymize


def usages_anonymize_chunk(*, ids, actor: Actor, via: Interface, params: dict) -> ChunkResult:
    """One chunk of code usages to anonymize: all or nothing, as the service is."""
    outcome = usages_anonymize(usage_ids=ids, actor=actor, via=via)
    return ChunkResult(
        changed=len(outcome.changed), batch_id=outcome.batch_id, unchanged=len(outcome.already_anonymized)
    )


USAGES_ANONYMIZE = JobKind(
    name="usages.anonymize",
    label="Anonymize code usages",
    run_chunk=usages_anonymize_chunk,
    masks=(CodeUsage,),
)
