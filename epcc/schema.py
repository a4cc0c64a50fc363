"""OpenAPI pieces every endpoint shares: the error envelope, bodies of id batches, Bearer auth.

These serializers describe documents for drf-spectacular; PostgreSQL writes
the documents themselves (epcc/documents/orders.py, epcc/documents/usages.py).
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "The body or the query cannot be read (not JSON, ids missing or not UUID strings, empty or "
    "too long a batch, a filter that does not parse, page parameters out of range, unknown sort).",
    401: "No token, or a bad, expired or revoked one.",
    403: "The token's user lacks the permission.",
    404: "Unknown route or resource; in a batch, one entry per unknown id.",
    405: "Wrong method for this path.",
    415: "The body is not JSON.",
    422: "A record that may not be anonymized (one entry per refused id).",
    429: "Too many requests.",
}


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    title = serializers.CharField()
    detail = serializers.CharField()
    meta = serializers.DictField(required=False, help_text="e.g. order_id, usage_id, source")


class ErrorEnvelopeSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)

    class Meta:
        ref_name = "ErrorEnvelope"


def error_responses(*statuses: int) -> dict:
    return {
        status: OpenApiResponse(ErrorEnvelopeSerializer, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


def serializer_class(name: str, fields: dict) -> type[serializers.Serializer]:
    """A Serializer class with these fields; `name` also names its schema component."""
    return type(name, (serializers.Serializer,), {**fields, "Meta": type("Meta", (), {"ref_name": name})})


def inline_serializer(*, name: str, fields: dict, **kwargs) -> serializers.Serializer:
    """A schema object nested in another, in one expression (HackSoft's styleguide helper).

    `kwargs` go to the serializer (`many`, `required`, ...).
    """
    return serializer_class(name, fields)(**kwargs)


def batch_request_serializer(name: str, ids_field: str, what: str) -> type[serializers.Serializer]:
    """The body {"data": {<ids_field>: [uuid, ...]}} as a serializer named `name`."""
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=settings.PRIVACY_BATCH_LIMIT,
        help_text=f"The {what} to anonymize (duplicates are answered once).",
    )
    return serializer_class(name, {"data": inline_serializer(name=f"{name}Data", fields={ids_field: ids})})


class BearerKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "epcc.authentication.BearerKeyAuthentication"
    name = "Bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key token (python manage.py create_api_key) or an access token "
                "from POST /oauth/access_token."
            ),
        }


UpstreamPushSchema = serializer_class(
    "UpstreamPush",
    {
        "state": serializers.ChoiceField(choices=["pending", "done", "failed"]),
        "error": serializers.CharField(required=False, help_text="The store's error, or why it waits."),
    },
)


def upstream_serializer():
    """meta.upstream of a document: its anonymization's push to the EPCC store (the connector)."""
    return UpstreamPushSchema(
        required=False,
        help_text="Where this record's anonymization stands in the EPCC store; absent when never sent.",
    )
