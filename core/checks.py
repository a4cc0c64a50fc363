"""System checks: what would otherwise fail only when someone clicks."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.admin)
def anonymize_actions_can_write_their_history(app_configs, **kwargs):
    """Every admin offering *Anonymize selected* has a model whose history the database can write.

    The action's one admin-history INSERT names each record by its id
    (core.admin_actions.history_repr_pattern); a model whose `str()` shows
    anything else would be refused at the first click. This says so at start.
    """
    from django.contrib import admin

    from core.admin_actions import history_repr_pattern

    errors = []
    for model, model_admin in admin.site._registry.items():
        actions = [
            action if isinstance(action, str) else action.__name__ for action in model_admin.actions or ()
        ]
        if not any(name.startswith("anonymize_selected") for name in actions):
            continue
        try:
            history_repr_pattern(model)
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), obj=model_admin, id="core.E001"))
    return errors
