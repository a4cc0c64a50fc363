"""Routes of the EPCC-compatible API. Filled in by the API work (issue 3)."""

urlpatterns = []
