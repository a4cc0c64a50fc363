from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/privacy/", permanent=False)),
    path("admin/", admin.site.urls),
    path("privacy/", include("privacy.urls")),
    # The EPCC-compatible API (v2/...), its token endpoint and its docs.
    path("", include("epcc.urls")),
]

handler404 = "epcc.errors.handler404"
handler500 = "epcc.errors.handler500"
