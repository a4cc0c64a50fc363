"""The product's settings plus the bench's baseline view (never in the product's urls)."""

from backoffice.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
