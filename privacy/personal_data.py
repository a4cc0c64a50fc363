"""A register of every text field of every model: personal or not.

A test fails when a model gains a text field that is in neither set, so a
new personal field cannot slip past anonymization unnoticed; another test
fills every personal field and checks the services mask each one.
"""

from orders.models import ADDRESS_PERSONAL_FIELDS, ORDER_PERSONAL_FIELDS
from promotions.models import USAGE_PERSONAL_FIELDS

PERSONAL: dict[str, frozenset[str]] = {
    "orders.Order": frozenset(ORDER_PERSONAL_FIELDS),
    "orders.OrderAddress": frozenset(ADDRESS_PERSONAL_FIELDS),
    "orders.OrderCustomAttribute": frozenset({"value"}),
    "promotions.CodeUsage": frozenset(USAGE_PERSONAL_FIELDS),
}

NOT_PERSONAL: dict[str, frozenset[str]] = {
    "orders.Order": frozenset({"status", "payment", "shipping", "currency"}),
    "orders.OrderAddress": frozenset({"kind"}),
    # Attribute names are set by the shop ("gift_message"), not by the customer.
    "orders.OrderCustomAttribute": frozenset({"name", "type"}),
    "orders.OrderItem": frozenset({"name", "sku", "currency"}),
    # Written by staff about the order, not about the person.
    "orders.LegalHold": frozenset({"reason"}),
    "promotions.Promotion": frozenset({"name"}),
    "promotions.PromotionCode": frozenset({"code"}),
    # updated_by is a staff username or an API key's public id.
    "promotions.CodeUsage": frozenset({"code", "updated_by"}),
    "core.ApiKey": frozenset({"name", "secret_hash"}),
    "core.AccessToken": frozenset({"token_hash"}),
    # The subject only as a keyed hash; resource_id only when it is an id (never an email);
    # the notes and reasons are the officer's words about the request.
    "core.ErasureRequest": frozenset(
        {
            "reference",
            "subject_key",
            "resource_type",
            "resource_id",
            "status",
            "extension_reason",
            "closing_note",
        }
    ),
    # An item keeps the record's id; its reason is written from statuses, a hold's reason or the officer's.
    "erasure.ErasureRequestItem": frozenset({"record_type", "state", "wait_reason", "reason"}),
    # note: staff's words (a hold's release reason), as LegalHold.reason.
    "core.AuditRecord": frozenset({"action", "actor", "interface", "record_type", "fields", "note"}),
    # A job's params hold ids and cut-off dates; its error, a domain message or an exception's name.
    "core.Job": frozenset({"kind", "status", "actor", "interface", "params", "error"}),
    # The outbox to the EPCC store: only ids are sent, so the store's error names ids and statuses.
    "core.UpstreamPush": frozenset({"record_type", "state", "error"}),
    # A sync's place in the store: names of walks, promotion ids, a store error.
    "connector.SyncState": frozenset({"key", "cursor", "last_error"}),
    # The SHA-256 of a throttle's scope and client (a user's id or an address): no address in clear.
    "core.ThrottleCount": frozenset({"key"}),
}

# The apps whose models the register must cover completely.
REGISTERED_APPS = ("core", "orders", "promotions", "erasure", "privacy", "connector")
