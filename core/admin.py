"""API keys, the audit trail and the jobs in the admin.

An API key's secret is never shown (only its hash is stored, and the admin
does not show that either); a key made here shows its token once, in a
message. The audit trail and the jobs are read-only.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from core.admin_lists import ReadOnlyListAdmin, parse_uuid
from core.api_keys import api_key_create, api_key_revoke
from core.jobs import job_kind_label, job_kinds
from core.models import ApiKey, AuditRecord, Job, RecordType

# The order and usage lists are wide (uuids, three statuses); the sidebar would
# push half of their columns off screen.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Privacy back-office administration"
admin.site.site_title = "Privacy back-office"
admin.site.index_title = "Orders, code usages and the audit trail"


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", "Usable"), ("revoked", "Revoked"), ("expired", "Expired, not revoked")]

    def queryset(self, request, queryset):
        if self.value() == "usable":
            return queryset.usable()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True).exclude(
                pk__in=ApiKey.objects.usable().values("pk")
            )
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    actions = ["revoke_selected_keys"]
    list_display = ("label", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    list_filter = (ApiKeyStateFilter,)
    search_fields = ("name", "=key_id", "=user__username")
    ordering = ("-created_at",)
    # secret_hash is in neither list: the admin never shows it.
    fields = ("label", "name", "user", "expires_at", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("label", "created_at", "last_used_at", "revoked_at")
    raw_id_fields = ("user",)

    def get_fields(self, request, obj=None):
        if obj is None:
            # The key id (and so its label) and the dates exist only once the key is created:
            # an add form showing a label would show one the new key never gets.
            return ("name", "user", "expires_at")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A key acts as its user; moving it to another user would be a new key.
        return (*self.readonly_fields, "user")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key, token = api_key_create(name=obj.name, user=obj.user, expires_at=obj.expires_at)
        # The admin goes on with `obj` (history entry, redirect): make it the new key.
        obj.pk, obj.key_id, obj.secret_hash, obj.created_at = (
            key.pk,
            key.key_id,
            key.secret_hash,
            key.created_at,
        )
        obj._state.adding = False
        obj._state.db = key._state.db
        self.message_user(
            request,
            f"The Bearer token of {key.label}, shown this once (only a hash is kept); copy it now: {token}",
            messages.WARNING,
        )

    @admin.action(permissions=["change"], description="Revoke selected API keys")
    def revoke_selected_keys(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(api_key=key)
        if keys:
            content_type_id = ContentType.objects.get_for_model(ApiKey).pk
            LogEntry.objects.bulk_create(
                [
                    LogEntry(
                        user_id=request.user.pk,
                        content_type_id=content_type_id,
                        object_id=str(key.pk),
                        object_repr=str(key)[:200],
                        action_flag=CHANGE,
                        change_message='[{"changed": {"fields": ["revoked_at"]}}]',
                    )
                    for key in keys
                ]
            )
        self.message_user(request, f"Revoked {len(keys)} API key(s).", messages.SUCCESS)


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyListAdmin):
    list_display = (
        "at",
        "action",
        "record_type",
        "record_id",
        "actor",
        "interface",
        "changed_fields",
        "batch_id",
    )
    list_filter = ("interface", "action", "record_type", "at")
    date_hierarchy = "at"
    # get_search_results below: a record id, or an actor (both exact, both indexed).
    search_fields = ("=record_id", "=actor")
    search_help_text = "A record id, or an actor: a username or Key-<id> (exact)."
    ordering = ("-at", "-id")
    readonly_fields = ("changed_fields",)
    # A record's page: the changed fields as a list, not as JSON.
    fields = (
        "at",
        "action",
        "record_type",
        "record_id",
        "actor",
        "actor_user",
        "actor_key",
        "interface",
        "changed_fields",
        "note",
        "batch_id",
        "erasure_request",
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if (value := parse_uuid(term)) is not None:
            # Naming every record type lets the (record_type, record_id) index serve it.
            return queryset.filter(record_type__in=RecordType.values, record_id=value), False
        return queryset.filter(actor=term), False

    @admin.display(description="fields")
    def changed_fields(self, record):
        return ", ".join(record.fields)


class JobKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(((name, kind.label) for name, kind in job_kinds().items()), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(ReadOnlyListAdmin):
    """Jobs as the workers left them; cancel and retry are on the privacy pages' job page."""

    list_display = (
        "created_at",
        "kind_label",
        "status",
        "actor",
        "interface",
        "progress",
        "started_at",
        "finished_at",
        "id",
    )
    list_filter = ("status", JobKindFilter, "interface", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("=id", "=actor")
    search_help_text = "A job id, or an actor: a username or Key-<id> (exact)."
    ordering = ("-created_at", "-id")
    fields = (
        "id",
        "kind",
        "status",
        "total",
        "done",
        "actor",
        "interface",
        "params",
        "chunk_size",
        "planned",
        "error",
        "cancel_requested",
        "created_at",
        "started_at",
        "finished_at",
    )

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, job):
        return job_kind_label(job.kind)

    @admin.display(description="done / total")
    def progress(self, job):
        return f"{job.done} / {'?' if job.total is None else job.total}"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if (value := parse_uuid(term)) is not None:
            return queryset.filter(pk=value), False
        return queryset.filter(actor=term), False
