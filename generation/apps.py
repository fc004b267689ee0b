from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self):
        from storyapp.workers import register_sweeper

        from .tasks import sweep

        register_sweeper(sweep)
