"""EPCC's Personal Data API (SPEC section 7), as EPCC's JavaScript SDK calls it.

GET /v2/personal-data/logs (the audit trail of one resource, as log entries),
GET /v2/personal-data/logs/{id},
GET /v2/personal-data/related-data-entries (every record held about one resource).

Lists take EPCC's required filter `eq(resource_type,X):eq(resource_id,Y)`
(epcc.personal_data_filters) and EPCC's paging; the reads are
epcc.personal_data_records, the documents epcc.documents.personal_data.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.models import AuditRecord
from epcc.documents.personal_data import (
    LOG_ENTRY_TYPE,
    RELATED_DATA_ENTRY_TYPE,
    log_entry_document,
    related_data_entry_document,
)
from epcc.personal_data_filters import RESOURCE_TYPES, filter_parameter, subject_of_filter
from epcc.personal_data_records import audit_trail, log_entries, related_records
from epcc.schema import error_responses, inline_serializer, serializer_class
from epcc.views import EpccViewSet
from orders.models import Order

TAG = "personal data"
# Reading what is held about a resource, and its trail: what the privacy officers may view.
READ_PERMISSIONS = ["orders.view_order", "promotions.view_codeusage"]
LOG_NOT_FOUND_DETAIL = "No personal data log entry found with id {id}"

InitiatorSchema = serializer_class(
    "PersonalDataInitiator",
    {
        name: serializers.CharField(allow_null=True)
        for name in (
            "access-token-email",
            "access-token-id",
            "access-token-name",
            "access-token-store-id",
            "access-token-type",
        )
    },
)
LogEntrySchema = serializer_class(
    "PersonalDataLogEntry",
    {
        "id": serializers.CharField(),
        "store_id": serializers.CharField(allow_null=True),
        "type": serializers.ChoiceField(choices=[LOG_ENTRY_TYPE]),
        "initiator": InitiatorSchema(),
        "time": serializers.DateTimeField(),
        "event_type": serializers.CharField(
            help_text="e.g. order.event.anonymized, code_usage.event.anonymized"
        ),
        "delta": serializers.DictField(help_text="The changed fields with their new values (the mask)."),
        "resource_id": serializers.UUIDField(),
        "resource_type": serializers.ChoiceField(choices=["order", "code_usage"]),
        "relationships": inline_serializer(
            name="PersonalDataLogRelationships",
            fields={
                "resource_path": inline_serializer(
                    name="PersonalDataResourcePath", fields={"url": serializers.CharField(allow_null=True)}
                )
            },
        ),
        "meta": serializers.DictField(help_text="interface, batch_id, erasure_request_id."),
        "links": serializers.DictField(),
    },
)
RelatedDataEntrySchema = serializer_class(
    "RelatedDataEntry",
    {
        "id": serializers.UUIDField(),
        "type": serializers.ChoiceField(choices=[RELATED_DATA_ENTRY_TYPE]),
        "resource_type": serializers.ChoiceField(choices=list(RESOURCE_TYPES)),
        "resource_id": serializers.UUIDField(),
    },
)


class PersonalDataViewSet(EpccViewSet):
    """A Personal Data API list: its subject from the filter, EPCC's paging, Python-written documents."""

    # The filter is the subject, not a narrowing: subject_of_filter reads it.
    filter_backends = []
    required_permissions = {"list": READ_PERMISSIONS, "retrieve": READ_PERMISSIONS}

    def rows_of(self, subject):
        raise NotImplementedError

    def document_of(self, request, row) -> dict:
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        subject = subject_of_filter(request.query_params.getlist("filter"))
        rows, envelope = self.paginator.page_rows(self.rows_of(subject), request)
        return Response({"data": [self.document_of(request, row) for row in rows], **envelope})


class PersonalDataLogViewSet(PersonalDataViewSet):
    queryset = AuditRecord.objects.none()  # for the schema; rows_of reads

    def rows_of(self, subject):
        return audit_trail(subject)

    def document_of(self, request, row) -> dict:
        return log_entry_document(request, row)

    @extend_schema(
        tags=[TAG],
        operation_id="personal_data_logs_list",
        summary="Get personal data logs",
        description=(
            "The audit trail of one resource, oldest first: every anonymization and legal hold of an "
            "order or a code usage; of a customer or an account, of every order and code usage it holds. "
            "`delta` holds the changed fields with their new values (the mask), never an old value."
        ),
        parameters=[filter_parameter()],
        responses={200: LogEntrySchema, **error_responses(400, 401, 403, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=[TAG],
        summary="Get a personal data log entry",
        responses={200: LogEntrySchema, **error_responses(401, 403, 404, 405, 429)},
    )
    def retrieve(self, request, pk=None):
        record = log_entries().filter(pk=pk).first()
        if record is None:
            raise NotFound(LOG_NOT_FOUND_DETAIL.format(id=pk))
        return Response({"data": log_entry_document(request, record)})


class RelatedDataEntryViewSet(PersonalDataViewSet):
    queryset = Order.objects.none()  # for the schema; rows_of reads

    def rows_of(self, subject):
        return related_records(subject)

    def document_of(self, request, row) -> dict:
        return related_data_entry_document(row)

    @extend_schema(
        tags=[TAG],
        operation_id="personal_data_related_data_entries_list",
        summary="Get related data entries",
        description=(
            "Every record held about one resource: a customer's or an account's orders and code usages, "
            "an order's code usages, a code usage's order; by type, then id."
        ),
        parameters=[filter_parameter()],
        responses={200: RelatedDataEntrySchema, **error_responses(400, 401, 403, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
