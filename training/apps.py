from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        from storyapp.workers import register_sweeper

        from .tasks import sweep

        register_sweeper(sweep)
