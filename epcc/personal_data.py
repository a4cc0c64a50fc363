"""EPCC's Personal Data API (SPEC section 7), as EPCC's JavaScript SDK calls it.

POST /v2/personal-data/erasure-requests (201 at once; a job does the work),
GET /v2/personal-data/erasure-requests (filter) and /{id},
GET /v2/personal-data/logs (the audit trail of one resource, as log entries),
GET /v2/personal-data/logs/{id},
GET /v2/personal-data/related-data-entries (every record held about one resource).

Lists take EPCC's required filter `eq(resource_type,X):eq(resource_id,Y)`
(epcc.personal_data_filters) and EPCC's paging; the reads are
epcc.personal_data_records, the documents epcc.documents.personal_data.
"""

import re

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.audit import Actor
from core.models import AuditRecord, ErasureRequest, Interface, JobStatus, SubjectResourceType
from epcc.documents.personal_data import (
    CREATED,
    CREATED_DESCRIPTION,
    ERASURE_REQUEST_TYPE,
    FAILURE,
    LOG_ENTRY_TYPE,
    NOTHING_HELD_DESCRIPTION,
    RELATED_DATA_ENTRY_TYPE,
    SUCCESS,
    erasure_request_document,
    erasure_request_status,
    log_entry_document,
    related_data_entry_document,
)
from epcc.personal_data_filters import (
    RESOURCE_TYPES,
    BadFilter,
    filter_parameter,
    resource_id_of,
    resource_type_of,
    subject_of_filter,
)
from epcc.personal_data_records import (
    ITEM_COUNTS,
    audit_trail,
    erasure_requests_about,
    erasure_requests_read,
    item_counts,
    log_entries,
    related_records,
    waiting_records,
)
from epcc.schema import error_responses, inline_serializer, serializer_class
from epcc.views import EpccViewSet
from erasure.services import REFERENCE_MAX_LENGTH, erasure_request_create
from orders.models import Order

TAG = "personal data"
# Reading what is held about a resource, and its trail: what the privacy officers may view.
READ_PERMISSIONS = ["orders.view_order", "promotions.view_codeusage"]
LOG_NOT_FOUND_DETAIL = "No personal data log entry found with id {id}"


def inline_enum(*values: str, **kwargs) -> serializers.CharField:
    """A string field of these values. One value is written as a pattern, not an enum: the
    documents' `type` fields each hold their own, and enum components named after one field
    name would clash."""
    schema = {"type": "string", "enum": list(values)}
    if len(values) == 1:
        schema = {"type": "string", "pattern": f"^{re.escape(values[0])}$", "example": values[0]}
    field_class = extend_schema_field(schema)(type("InlineEnumField", (serializers.CharField,), {}))
    return field_class(**kwargs)


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
        "type": inline_enum(LOG_ENTRY_TYPE),
        "initiator": InitiatorSchema(),
        "time": serializers.DateTimeField(),
        "event_type": serializers.CharField(
            help_text="e.g. order.event.anonymized, code_usage.event.anonymized"
        ),
        "delta": serializers.DictField(help_text="The changed fields with their new values (the mask)."),
        "resource_id": serializers.UUIDField(),
        "resource_type": inline_enum("order", "code_usage"),
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
        "type": inline_enum(RELATED_DATA_ENTRY_TYPE),
        "resource_type": inline_enum(*RESOURCE_TYPES),
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

    def documents(self, request, rows: list) -> list[dict]:
        return [self.document_of(request, row) for row in rows]

    def list(self, request, *args, **kwargs):
        subject = subject_of_filter(request.query_params.getlist("filter"))
        rows, envelope = self.paginator.page_rows(self.rows_of(subject), request)
        return Response({"data": self.documents(request, rows), **envelope})


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


# --- Erasure requests ----------------------------------------------------------------------------

ERASURE_REQUEST_NOT_FOUND_DETAIL = "No erasure request found with id {id}"
ERASURE_REQUEST_BODY_DETAIL = (
    'The body must be {"data": {"type": "erasure_request", "resource_type": ..., "resource_id": ...}}.'
)
# Erasing is anonymizing: the permissions of both anonymizing endpoints.
CREATE_PERMISSIONS = ["orders.anonymize_order", "promotions.anonymize_codeusage"]
API_REFERENCE = "Personal Data API ({actor})"
# What the schema promises a reference may be (the service refuses NUL characters).
REFERENCE_PATTERN = r"^[^\x00]*$"

ErasureRequestSchema = serializer_class(
    "ErasureRequest",
    {
        "id": serializers.UUIDField(),
        "type": inline_enum(ERASURE_REQUEST_TYPE),
        "resource_id": serializers.CharField(
            allow_blank=True, help_text="Blank for a request made by email on the privacy pages."
        ),
        "resource_type": inline_enum(*SubjectResourceType.values),
        "initiator": InitiatorSchema(),
        "status": inline_enum(CREATED, SUCCESS, FAILURE),
        "status_description": serializers.CharField(
            help_text="What was done; while CREATED, what still waits and until when."
        ),
        "created_at": serializers.DateTimeField(),
        "updated_at": serializers.DateTimeField(),
        "meta": inline_serializer(
            name="ErasureRequestMeta",
            fields={
                "reference": serializers.CharField(),
                "received_on": serializers.DateField(),
                "due_on": serializers.DateField(help_text="The extended due date when extended."),
                "closed_at": serializers.DateTimeField(allow_null=True),
                "items": serializers.DictField(
                    child=serializers.IntegerField(), help_text="Records by state: " + ", ".join(ITEM_COUNTS)
                ),
            },
        ),
        "links": serializers.DictField(),
    },
)
ErasureRequestCreateSchema = serializer_class(
    "ErasureRequestCreate",
    {
        "data": inline_serializer(
            name="ErasureRequestCreateData",
            fields={
                "type": inline_enum(ERASURE_REQUEST_TYPE),
                "resource_type": inline_enum(
                    *RESOURCE_TYPES, "code-usage", help_text="Hyphenated spellings accepted."
                ),
                "resource_id": serializers.UUIDField(),
                "reference": serializers.RegexField(
                    REFERENCE_PATTERN,
                    required=False,
                    allow_blank=True,
                    allow_null=True,
                    max_length=REFERENCE_MAX_LENGTH,
                    help_text="Beyond EPCC: the case file's reference (a ticket; never a name or email). "
                    "Null, blank or left out: Personal Data API (<key>).",
                ),
            },
        )
    },
)
ErasureRequestOneSchema = serializer_class("ErasureRequestDocument", {"data": ErasureRequestSchema()})


def _body_field(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({f"data.{name}": ["This field is required: a non-empty string."]})
    return value


def erasure_request_body(request) -> tuple[str, str, str | None]:
    """(resource_type, resource_id, reference or None) of a POST body; a 400 naming what is wrong."""
    body = request.data
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ValidationError({"data": [ERASURE_REQUEST_BODY_DETAIL]})
    data = body["data"]
    if data.get("type") != ERASURE_REQUEST_TYPE:
        raise ValidationError({"data.type": [f'Must be "{ERASURE_REQUEST_TYPE}".']})
    try:
        resource_type = resource_type_of(_body_field(data, "resource_type"))
        resource_id = resource_id_of(_body_field(data, "resource_id"))
    except BadFilter as error:  # the same rule as the lists' filter, said of the body
        field = "resource_type" if "resource_type" in str(error.detail) else "resource_id"
        raise ValidationError({f"data.{field}": [str(error.detail).removeprefix("bad filter: ")]}) from None
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise ValidationError({"data.reference": ["Must be a string."]})
    return resource_type, str(resource_id), (reference or "").strip() or None


class ErasureRequestViewSet(PersonalDataViewSet):
    queryset = ErasureRequest.objects.none()  # for the schema; the reads are epcc.personal_data_records
    required_permissions = {
        "list": READ_PERMISSIONS,
        "retrieve": READ_PERMISSIONS,
        "create": CREATE_PERMISSIONS,
    }

    def rows_of(self, subject):
        return erasure_requests_about(subject)

    def documents(self, request, rows: list, *, just_created: bool = False) -> list[dict]:
        """The requests' documents: one more query, for what their waiting items are."""
        waiting = waiting_records(r.pk for r in rows if r.items_waiting)
        documents = []
        for erasure_request in rows:
            counts = item_counts(erasure_request)
            status, description = erasure_request_status(
                erasure_request,
                job_failed=erasure_request.last_job_status == JobStatus.FAILED,
                counts=counts,
                waiting=waiting.get(erasure_request.pk, []),
            )
            if just_created and status != CREATED:
                # EPCC answers a new request CREATED; a GET tells what became of it. Only a
                # request about nothing is done already (nothing was held).
                status, description = CREATED, f"{CREATED_DESCRIPTION}; {NOTHING_HELD_DESCRIPTION}"
            documents.append(
                erasure_request_document(
                    request, erasure_request, status=status, description=description, counts=counts
                )
            )
        return documents

    @extend_schema(
        tags=[TAG],
        operation_id="personal_data_erasure_requests_list",
        summary="Get erasure requests",
        description=(
            "The erasure requests made for one resource (its type and id, as they were created), newest "
            "first. `status` is CREATED while anything is still to do (`status_description` says what "
            "waits and until when), SUCCESS when completed, FAILURE when rejected, cancelled or failed."
        ),
        parameters=[filter_parameter()],
        responses={200: ErasureRequestSchema, **error_responses(400, 401, 403, 405, 429)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=[TAG],
        summary="Get an erasure request",
        responses={200: ErasureRequestOneSchema, **error_responses(401, 403, 404, 405, 429)},
    )
    def retrieve(self, request, pk=None):
        erasure_request = erasure_requests_read().filter(pk=pk).first()
        if erasure_request is None:
            raise NotFound(ERASURE_REQUEST_NOT_FOUND_DETAIL.format(id=pk))
        return Response({"data": self.documents(request, [erasure_request])[0]})

    @extend_schema(
        tags=[TAG],
        operation_id="personal_data_erasure_requests_create",
        summary="Create an erasure request",
        description=(
            "Opens an erasure request for a customer, an account, an order (its customer's records too) "
            "or a code usage, with one item per record held, and answers 201 at once with status CREATED: "
            "a background job anonymizes every eligible record (audit records linked to the request); the "
            "rest wait (not yet fulfilled, cancelled or refunded; under legal hold) and the periodic "
            "follow-up anonymizes each once it becomes eligible. Poll GET until SUCCESS. Needs the "
            "permissions to anonymize orders and code usages."
        ),
        request=ErasureRequestCreateSchema,
        responses={201: ErasureRequestOneSchema, **error_responses(400, 401, 403, 405, 415, 429)},
        examples=[
            OpenApiExample(
                "Erase a customer",
                request_only=True,
                value={
                    "data": {
                        "type": ERASURE_REQUEST_TYPE,
                        "resource_type": "customer",
                        "resource_id": "0f850c15-d643-480a-a2b4-9e3c26067178",
                    }
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        resource_type, resource_id, reference = erasure_request_body(request)
        actor = Actor.for_request(request)
        try:
            created = erasure_request_create(
                resource_type=resource_type,
                resource_id=resource_id,
                reference=reference or API_REFERENCE.format(actor=actor.label),
                actor=actor,
                via=Interface.API,
            )
        except ValueError as error:  # the service's own words: a bad reference, say
            raise ValidationError({"data": [str(error)]}) from None
        erasure_request = erasure_requests_read().get(pk=created.pk)
        [document] = self.documents(request, [erasure_request], just_created=True)
        return Response({"data": document}, status=201)


@extend_schema_view(list=extend_schema(exclude=True), create=extend_schema(exclude=True))
class ErasureRequestTrailingSlashViewSet(ErasureRequestViewSet):
    """The same endpoint under EPCC's CLI's spelling (a trailing slash), described once."""
