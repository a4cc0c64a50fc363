"""Bearer-token authentication. Filled in by the API work (issue 3)."""

from rest_framework.authentication import BaseAuthentication


class BearerKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None
