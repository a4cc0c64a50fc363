"""The product's routes, plus one plain-Django baseline the bench compares the API with."""

from django.urls import path

from backoffice.urls import handler404, handler500  # noqa: F401
from backoffice.urls import urlpatterns as product_urlpatterns
from bench.views import plain_code_usages

urlpatterns = [
    path("bench/plain/<uuid:promotion_id>/codes/<str:code>/usages", plain_code_usages),
    *product_urlpatterns,
]
