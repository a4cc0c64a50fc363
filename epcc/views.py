"""View plumbing every EPCC endpoint shares: permissions, document lists, batch bodies,
EPCC's `filter` and `sort` parameters."""

import json
import uuid

from django.conf import settings
from django.http import HttpResponse
from rest_framework import exceptions, mixins, viewsets
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import BasePermission, IsAuthenticated

from core.audit import Actor
from core.models import Interface
from epcc.filtering import (
    MAX_FILTER_LENGTH,
    MAX_TERMS,
    OPERATORS,
    FilterSyntaxError,
    filter_pattern,
    filterset_layers,
    parse_filter,
)
from epcc.pagination import EpccPagination

# --- Permissions ----------------------------------------------------------------


class ActionPermissions(BasePermission):
    """The Django permissions each action of a viewset needs (`view.required_permissions`).

    An action the map does not name is refused.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        if view.action in (None, "metadata"):
            # A method the view does not map, or OPTIONS (no metadata is offered): the view answers 405.
            return True
        needed = getattr(view, "required_permissions", {}).get(view.action)
        if needed is None:
            return False
        if request.user is None or not request.user.has_perms(needed):
            self.message = "This action needs the permission " + ", ".join(needed) + "."
            return False
        return True


class DocumentsListMixin:
    """`list` whose page the database writes as JSON text (see EpccPagination.page_documents).

    `documents_json(keys) -> list[str]` gives each document in the keys' order
    (epcc.documents.orders, epcc.documents.usages); `documents_of(queryset)`, when
    set, turns a page's own query into its documents.
    """

    documents_json = None
    # Optional: queryset -> its rows' documents, for a page written by its own query.
    documents_of = None

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        cls = type(self)
        documents, envelope = self.paginator.page_documents(
            queryset, request, cls.documents_json, cls.documents_of
        )
        return documents_response(documents, **envelope)


# --- Batch bodies -----------------------------------------------------------------


def documents_response(texts: list[str], **members) -> HttpResponse:
    """`{"data": [...], **members}`: documents the database wrote as JSON text, in their order.

    The one place an answer is put together from JSON texts: Python only joins
    the documents (building dicts and dumping them would cost more than the
    work the endpoint does); `members` (a page's `links` and `meta`) are dumped.
    """
    rest = json.dumps(members, ensure_ascii=False)[1:] if members else "}"
    body = '{"data":[' + ",".join(texts) + "]" + ("," if members else "") + rest
    return HttpResponse(body.encode(), content_type="application/json")


def anonymized_response(request, name: str, anonymize, returning, documents_json) -> HttpResponse:
    """The answer of an anonymize endpoint: the ids of `{"data": {name: [...]}}` anonymized, their documents.

    `anonymize(ids, actor=, via=, returning=)` is the service; its masking
    statement writes the documents (`returning`) of the records it changes,
    and `documents_json(ids, written=)` reads only the others.
    """
    ids = batch_ids(request, name)
    outcome = anonymize(ids, actor=Actor.for_request(request), via=Interface.API, returning=returning)
    return documents_response(documents_json(ids, written=outcome.returned))


def batch_ids(request, name: str) -> list[str]:
    """The ids of `{"data": {name: [...]}}`, canonical, duplicates dropped, order kept.

    A body that cannot be read is a 400: not JSON, `data` or `data.<name>` missing,
    not a list of UUID strings, empty, or longer than settings.PRIVACY_BATCH_LIMIT.
    Duplicate ids are accepted and answered once.
    """
    source = f"data.{name}"
    body = request.data
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise exceptions.ValidationError({"data": [f'The body must be {{"data": {{"{name}": [...]}}}}.']})
    raw = body["data"].get(name)
    if not isinstance(raw, list):
        raise exceptions.ValidationError({source: ["Must be a list of UUID strings."]})
    if not raw:
        raise exceptions.ValidationError({source: ["Must name at least one id."]})
    limit = settings.PRIVACY_BATCH_LIMIT
    if len(raw) > limit:
        raise exceptions.ValidationError({source: [f"At most {limit} ids per request; {len(raw)} given."]})
    ids: dict[str, None] = {}
    bad = []
    for position, value in enumerate(raw):
        try:
            if not isinstance(value, str):
                raise ValueError
            ids.setdefault(str(uuid.UUID(value)), None)
        except ValueError:
            bad.append(position)
    if bad:
        shown = ", ".join(f"[{p}]" for p in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise exceptions.ValidationError({source: [f"Not a UUID string at {shown}."]})
    return list(ids)


# --- EPCC's filter and sort parameters -------------------------------------------------


def single_query_param(request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise exceptions.ValidationError({name: ["Give this parameter once."]})
    return values[0] if values else None


class EpccFilterBackend(BaseFilterBackend):
    """`filter` (EPCC's grammar) -> parse -> the view's FilterSet; lists only.

    The view names `filter_fields` (epcc.filtering's allowed map) and
    `filterset_class`, and may add FilterSet arguments in `get_filterset_kwargs()`.
    """

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        try:
            terms = parse_filter(single_query_param(request, "filter"), view.filter_fields)
        except FilterSyntaxError as error:
            raise exceptions.ValidationError({"filter": [str(error)]}) from None
        if not terms:
            return queryset
        extra = view.get_filterset_kwargs() if hasattr(view, "get_filterset_kwargs") else {}
        # A field and operator given twice both apply: one FilterSet pass per layer.
        for data in filterset_layers(terms):
            filterset = view.filterset_class(data, queryset=queryset, request=request, **extra)
            if not filterset.is_valid():
                messages = [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]
                raise exceptions.ValidationError({"filter": messages})
            queryset = filterset.qs
        return queryset

    def get_schema_operation_parameters(self, view):
        fields = "; ".join(
            f"{name}: {' '.join(op for op in OPERATORS if op in spec.ops)}"
            for name, spec in view.filter_fields.items()
        )
        return [
            {
                "name": "filter",
                "in": "query",
                "required": False,
                "description": (
                    "EPCC filter: op(field,value) terms joined by ':' (AND), at most "
                    f"{MAX_TERMS}. Fields and operators: {fields}. Dates are YYYY-MM-DD (the whole "
                    "UTC day) or ISO 8601 datetimes. Anything else is a 400."
                ),
                "schema": {
                    "type": "string",
                    "pattern": filter_pattern(view.filter_fields),
                    "maxLength": MAX_FILTER_LENGTH,
                },
                "example": view.filter_example,
            }
        ]


class EpccSortBackend(BaseFilterBackend):
    """`sort` -> ordering; the view maps each accepted value to its order_by (`sorts`)
    and names `default_sort`. Anything else is a 400."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        sort = single_query_param(request, "sort")
        if sort is None or sort == "":
            sort = view.default_sort
        if sort not in view.sorts:
            accepted = ", ".join(view.sorts)
            raise exceptions.ValidationError({"sort": [f"Unknown sort; accepted: {accepted}."]})
        return queryset.order_by(*view.sorts[sort])

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": f"Order of the results (default {view.default_sort}); ties break on id.",
                "schema": {"type": "string", "enum": list(view.sorts)},
            }
        ]


# --- The base of every resource's viewset ------------------------------------------------


class EpccViewSet(DocumentsListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A resource of the EPCC API: authenticated, each action's permissions named by
    `required_permissions` (ActionPermissions), EPCC's paging, `filter` and `sort`."""

    permission_classes = [IsAuthenticated, ActionPermissions]
    pagination_class = EpccPagination
    filter_backends = [EpccFilterBackend, EpccSortBackend]
