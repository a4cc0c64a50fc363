"""Routes of the EPCC-compatible API (no trailing slashes, EPCC's paths), its token
endpoint and its docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

import epcc.schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)
from epcc.errors import route_not_found
from epcc.oauth import AccessTokenView
from epcc.orders import OrderViewSet
from epcc.personal_data import (
    ErasureRequestTrailingSlashViewSet,
    ErasureRequestViewSet,
    PersonalDataLogViewSet,
    RelatedDataEntryViewSet,
)
from epcc.promotions import PromotionCodeViewSet, RulePromotionViewSet
from epcc.usages import CodeUsageViewSet

orders = OrderViewSet.as_view({"get": "list"})
order = OrderViewSet.as_view({"get": "retrieve"})
orders_anonymize = OrderViewSet.as_view({"post": "anonymize"})
usages = CodeUsageViewSet.as_view({"get": "list"})
usages_anonymize = CodeUsageViewSet.as_view({"post": "anonymize"})
personal_data_logs = PersonalDataLogViewSet.as_view({"get": "list"})
personal_data_log = PersonalDataLogViewSet.as_view({"get": "retrieve"})
related_data_entries = RelatedDataEntryViewSet.as_view({"get": "list"})
erasure_requests = ErasureRequestViewSet.as_view({"get": "list", "post": "create"})
erasure_request = ErasureRequestViewSet.as_view({"get": "retrieve"})
erasure_requests_slash = ErasureRequestTrailingSlashViewSet.as_view({"get": "list", "post": "create"})
promotions = RulePromotionViewSet.as_view({"get": "list"})
promotion_codes = PromotionCodeViewSet.as_view({"get": "list"})

# The schema and its docs page are public: they describe, they hold no data (and count
# against no rate: the throttles' counts are for the API's calls).
public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}
schema = SpectacularAPIView.as_view(**public)
docs = SpectacularSwaggerView.as_view(url_name="api-schema", **public)

urlpatterns = [
    path("oauth/access_token", AccessTokenView.as_view(), name="oauth-access-token"),
    path("v2/orders", orders, name="orders"),
    path("v2/orders/anonymize", orders_anonymize, name="orders-anonymize"),
    path("v2/orders/<uuid:pk>", order, name="order"),
    path("v2/rule-promotions/usages/anonymize", usages_anonymize, name="usages-anonymize"),
    path("v2/promotions/usages/anonymize", usages_anonymize, name="usages-anonymize-alias"),
    path("v2/rule-promotions", promotions, name="rule-promotions"),
    path("v2/rule-promotions/<uuid:promotion_id>/codes", promotion_codes, name="promotion-codes"),
    path("v2/rule-promotions/<uuid:promotion_id>/usages", usages, name="promotion-usages"),
    path("v2/rule-promotions/<uuid:promotion_id>/codes/<str:code>/usages", usages, name="code-usages"),
    # EPCC's CLI posts with a trailing slash: both spellings are served.
    path("v2/personal-data/erasure-requests", erasure_requests, name="personal-data-erasure-requests"),
    path("v2/personal-data/erasure-requests/", erasure_requests_slash),
    path(
        "v2/personal-data/erasure-requests/<uuid:pk>", erasure_request, name="personal-data-erasure-request"
    ),
    path("v2/personal-data/logs", personal_data_logs, name="personal-data-logs"),
    path("v2/personal-data/logs/<int:pk>", personal_data_log, name="personal-data-log"),
    path("v2/personal-data/related-data-entries", related_data_entries, name="related-data-entries"),
    path("api/schema/", schema, name="api-schema"),
    path("api/docs/", docs, name="api-docs"),
    # Anything else under the API's prefixes: a 404 envelope, even with DEBUG on.
    re_path(r"^(v2|oauth)(/.*)?$", route_not_found),
]
