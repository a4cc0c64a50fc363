"""EPCC's token endpoint: POST /oauth/access_token with the client_credentials grant.

An API key's public id is the client id and the secret part of its token the
client secret. The answer has EPCC's shape; the access token it carries lives
settings.API_ACCESS_TOKEN_SECONDS and dies with its key.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_keys import access_token_issue
from epcc.parsers import BoundedJSONParser
from epcc.schema import error_responses
from epcc.throttling import TokenEndpointThrottle

GRANT_TYPE = "client_credentials"
BAD_CLIENT_DETAIL = "Unknown client_id, wrong client_secret, or a revoked or expired key."


class AccessTokenRequestSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(choices=[GRANT_TYPE])
    client_id = serializers.CharField(
        min_length=1, help_text="The API key's public id (the number before the dot)."
    )
    client_secret = serializers.CharField(
        min_length=1, help_text="The API key's secret (the part after the dot)."
    )

    class Meta:
        ref_name = "AccessTokenRequest"


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds the token lives.")
    expires = serializers.IntegerField(help_text="When it expires, in seconds since the epoch.")
    identifier = serializers.CharField(help_text=f"The grant: {GRANT_TYPE}.")

    class Meta:
        ref_name = "AccessToken"


def _field(data, name: str) -> str:
    value = data.get(name) if hasattr(data, "get") else None
    if not isinstance(value, str) or not value:
        raise ValidationError({name: ["This field is required and may not be blank."]})
    return value


class AccessTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser, MultiPartParser, BoundedJSONParser]
    # Per client address: guessing secrets is slow.
    throttle_classes = [TokenEndpointThrottle]

    def get_authenticate_header(self, request):
        # Without it DRF turns a failed authentication into a 403; EPCC answers 401.
        return "Bearer"

    @extend_schema(
        tags=["authentication"],
        operation_id="oauth_access_token",
        summary="Get an access token (client_credentials)",
        auth=[],
        request={
            "application/x-www-form-urlencoded": AccessTokenRequestSerializer,
            "application/json": AccessTokenRequestSerializer,
        },
        responses={
            200: OpenApiResponse(AccessTokenSerializer, description="A Bearer token for the key."),
            **error_responses(400, 401, 405, 415, 429),
        },
    )
    def post(self, request):
        data = request.data
        grant_type = _field(data, "grant_type")
        if grant_type != GRANT_TYPE:
            raise ValidationError({"grant_type": [f'Only "{GRANT_TYPE}" is supported.']})
        client_id, client_secret = _field(data, "client_id"), _field(data, "client_secret")
        issued = access_token_issue(client_id=client_id, client_secret=client_secret)
        if issued is None:
            raise AuthenticationFailed(BAD_CLIENT_DETAIL)
        access_token, token = issued
        return Response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": settings.API_ACCESS_TOKEN_SECONDS,
                "expires": int(access_token.expires_at.timestamp()),
                "identifier": GRANT_TYPE,
            },
            headers={"Cache-Control": "no-store"},
        )
