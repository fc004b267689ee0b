from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        from django.db.models.signals import post_migrate

        from storyapp.workers import register_sweeper

        from .tasks import requeue, sweep

        register_sweeper(sweep)
        register_sweeper(requeue)
        # The last app to migrate: every permission exists by then. Role groups are kept
        # exactly as curation.roles says on every migrate (a role that loses a permission
        # loses it in every deployment, not only in new ones).
        post_migrate.connect(_roles_sync, sender=self)


def _roles_sync(sender, using="default", **kwargs):
    from curation.services.team import roles_sync

    roles_sync()
