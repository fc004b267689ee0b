from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"

    def ready(self):
        from storyapp.workers import register_sweeper

        from .tasks import sweep

        register_sweeper(sweep)
