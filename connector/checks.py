"""System checks of the connector: a store half-configured would sync nothing and push nothing."""

from django.conf import settings
from django.core import checks

STORE_SETTINGS = ("EPCC_API_BASE_URL", "EPCC_CLIENT_ID", "EPCC_CLIENT_SECRET")


@checks.register()
def store_fully_configured(app_configs, **kwargs):
    """All three store settings, or none: with only some, nothing is synced or pushed."""
    given = [name for name in STORE_SETTINGS if getattr(settings, name, "")]
    if not given or len(given) == len(STORE_SETTINGS):
        if given and not settings.EPCC_API_BASE_URL.startswith(("http://", "https://")):
            return [
                checks.Warning(
                    "EPCC_API_BASE_URL must start with http:// or https:// (the part of the store's "
                    "URLs before /v2/).",
                    id="connector.W002",
                )
            ]
        return []
    missing = [name for name in STORE_SETTINGS if name not in given]
    return [
        checks.Warning(
            f"The EPCC store is half-configured: {', '.join(given)} set but {', '.join(missing)} not. "
            "Nothing is synced from or pushed to the store until all three are set.",
            hint="Set all three environment variables, or none (docs/connector.md).",
            id="connector.W001",
        )
    ]
