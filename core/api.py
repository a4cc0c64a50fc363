"""API plumbing shared by every endpoint. Filled in by the API work (issue 3)."""

from django.views import defaults
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    return drf_exception_handler(exc, context)


def handler404(request, exception):
    return defaults.page_not_found(request, exception)


def handler500(request):
    return defaults.server_error(request)
