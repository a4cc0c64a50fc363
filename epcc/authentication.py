"""Bearer-token authentication for the API.

`Authorization: Bearer <token>`, where the token is an API key token
("<key_id>.<secret>", from create_api_key) or an access token issued by
POST /oauth/access_token. request.user is the key's user, request.auth the
ApiKey. A missing, malformed, unknown, expired or revoked token is a 401;
no message ever repeats the token.
"""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from core.api_keys import api_key_for_bearer

BAD_CREDENTIALS_DETAIL = "The Bearer token is invalid, expired or revoked."
MALFORMED_HEADER_DETAIL = "The Authorization header must read: Bearer <token>."


class BearerKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            # No Bearer credentials at all: the permission check answers 401.
            return None
        if len(header) != 2:
            raise AuthenticationFailed(MALFORMED_HEADER_DETAIL)
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(MALFORMED_HEADER_DETAIL) from None
        api_key = api_key_for_bearer(token)
        if api_key is None:
            raise AuthenticationFailed(BAD_CREDENTIALS_DETAIL)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword
