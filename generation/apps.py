from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self):
        from storyapp.workers import register_sweeper

        from .tasks import requeue, sweep

        register_sweeper(sweep)
        register_sweeper(requeue)
