"""Routes of the privacy officer's pages."""

from django.contrib.auth import views as auth_views
from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="privacy/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("people/", views.PersonSearchView.as_view(), name="search"),
    path("people/export/", views.PersonExportView.as_view(), name="export"),
    path("people/report/", views.PersonReportView.as_view(), name="report"),
    path("erasure/preview/", views.ErasurePreviewView.as_view(), name="erasure-preview"),
    path("erasure/confirm/", views.ErasureConfirmView.as_view(), name="erasure-confirm"),
    path("requests/", views.RequestListView.as_view(), name="requests"),
    path("requests/<uuid:pk>/", views.RequestDetailView.as_view(), name="request"),
    path("requests/<uuid:pk>/receipt/", views.ErasureReceiptView.as_view(), name="receipt"),
    path("requests/<uuid:pk>/extend/", views.RequestExtendView.as_view(), name="request-extend"),
    path("requests/<uuid:pk>/reject/", views.RequestRejectView.as_view(), name="request-reject"),
    path("requests/<uuid:pk>/cancel/", views.RequestCancelView.as_view(), name="request-cancel"),
    path(
        "requests/<uuid:pk>/items/<uuid:item_id>/exclude/",
        views.ItemExcludeView.as_view(),
        name="request-item-exclude",
    ),
    path("orders/<uuid:pk>/", views.OrderDetailView.as_view(), name="order"),
    path("orders/<uuid:pk>/holds/", views.LegalHoldPlaceView.as_view(), name="hold-place"),
    path("holds/", views.LegalHoldListView.as_view(), name="holds"),
    path("holds/<uuid:pk>/release/", views.LegalHoldReleaseView.as_view(), name="hold-release"),
    path("usages/", views.UsageListView.as_view(), name="usages"),
    path("audit/", views.AuditTrailView.as_view(), name="audit"),
    path("jobs/", views.JobListView.as_view(), name="jobs"),
    path("jobs/<uuid:pk>/", views.JobDetailView.as_view(), name="job"),
    path("jobs/<uuid:pk>/progress.json", views.JobProgressView.as_view(), name="job-progress"),
    path("jobs/<uuid:pk>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path("jobs/<uuid:pk>/retry/", views.JobRetryView.as_view(), name="job-retry"),
]
