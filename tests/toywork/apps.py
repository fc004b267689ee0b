from django.apps import AppConfig


class ToyWorkConfig(AppConfig):
    """A kind of tracked work made in a test from storyapp's base and skeleton alone."""

    name = "tests.toywork"
    label = "toywork"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from storyapp.workers import register_sweeper

        from .tasks import sweep

        register_sweeper(sweep)
