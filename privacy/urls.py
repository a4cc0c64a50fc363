"""Routes of the privacy officer's pages. Filled in by issue 5."""

app_name = "privacy"
urlpatterns = []
