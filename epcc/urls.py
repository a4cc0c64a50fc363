"""Routes of the EPCC-compatible API (no trailing slashes, EPCC's paths), its token
endpoint and its docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

import epcc.schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)
from epcc.errors import route_not_found
from epcc.oauth import AccessTokenView
from epcc.orders import OrderViewSet
from epcc.promotions import PromotionCodeViewSet, RulePromotionViewSet
from epcc.usages import CodeUsageViewSet

orders = OrderViewSet.as_view({"get": "list"})
order = OrderViewSet.as_view({"get": "retrieve"})
orders_anonymize = OrderViewSet.as_view({"post": "anonymize"})
usages = CodeUsageViewSet.as_view({"get": "list"})
usages_anonymize = CodeUsageViewSet.as_view({"post": "anonymize"})
promotions = RulePromotionViewSet.as_view({"get": "list"})
promotion_codes = PromotionCodeViewSet.as_view({"get": "list"})

# The schema and its docs page are public: they describe, they hold no data.
schema = SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny])
docs = SpectacularSwaggerView.as_view(
    url_name="api-schema", authentication_classes=[], permission_classes=[AllowAny]
)

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
    path("api/schema/", schema, name="api-schema"),
    path("api/docs/", docs, name="api-docs"),
    # Anything else under the API's prefixes: a 404 envelope, even with DEBUG on.
    re_path(r"^(v2|oauth)(/.*)?$", route_not_found),
]
