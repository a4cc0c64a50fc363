"""Driving an admin action the way the change list's form does."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

ORDERS_URL = "/admin/orders/order/"
USAGES_URL = "/admin/promotions/codeusage/"
ANONYMIZE_ORDERS = "anonymize_selected_orders"
ANONYMIZE_USAGES = "anonymize_selected_code_usages"


def choose_action(client, url, action, ids, **extra):
    """The change list's "Go": the action on the ticked rows (first request)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in ids], "index": "0", **extra}
    return client.post(url, data)


# The confirmation page's erasure request field, filled: a new request's reference.
ERASURE_REFERENCE = {"erasure_reference": "ADMIN-TICKET-1"}


def confirm_action(client, url, action, ids, **extra):
    """The confirmation page's submit button (second request, post=yes); follows the redirect.

    Files the anonymization under a new erasure request unless `extra` says otherwise.
    """
    data = {
        "action": action,
        ACTION_CHECKBOX_NAME: [str(pk) for pk in ids],
        "post": "yes",
        **ERASURE_REFERENCE,
        **extra,
    }
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []
