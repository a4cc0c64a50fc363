"""The API's throttles: DRF's rates and client identities, counted by core.throttling.

DRF's own throttles keep a list of timestamps per client in a cache (read and written
whole on every call); these keep one count per client in PostgreSQL, updated by one
statement. The rates are DRF's (`DEFAULT_THROTTLE_RATES`: API_THROTTLE_RATE,
API_THROTTLE_ANON_RATE), and so is the client's identity: the user, or the address that
`get_ident` takes from the connection or the trusted proxies (NUM_PROXIES).
"""

import hashlib

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.throttling import throttle_count


class CountedRateMixin:
    """allow_request of a SimpleRateThrottle, from one shared count in PostgreSQL."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        client = self.get_cache_key(request, view)
        if client is None:
            return True
        # Hashed: a fixed length whatever a trusted proxy passes on, and no address at rest.
        key = hashlib.sha256(client.encode()).hexdigest()
        allowed, self.seconds_left = throttle_count(key=key, limit=self.num_requests, seconds=self.duration)
        return allowed

    def wait(self):
        # Until the window ends: the first moment a request is counted again.
        return self.seconds_left


class UserThrottle(CountedRateMixin, UserRateThrottle):
    """API_THROTTLE_RATE per API user (per address when none)."""


class TokenEndpointThrottle(CountedRateMixin, AnonRateThrottle):
    """API_THROTTLE_ANON_RATE per client address: guessing secrets is slow."""
