from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"

    def ready(self):
        from django.core import checks

        from storyapp.workers import register_sweeper

        from .tasks import requeue, sweep

        register_sweeper(sweep)
        register_sweeper(requeue)
        checks.register(gates_setting_check)


def gates_setting_check(app_configs, **kwargs):
    """STORYAPP_GATES must parse: a typo would otherwise switch a gate off silently."""
    from django.conf import settings
    from django.core import checks

    from .gates import parse_actions

    try:
        parse_actions(settings.STORYAPP_GATES)
    except ValueError as error:
        return [checks.Error(f"STORYAPP_GATES: {error}", id="storyapp.E001")]
    return []
