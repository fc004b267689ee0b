import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from curation.services.guidelines import guidelines_ensure
from curation.services.team import roles_sync
from curation.services.themes import catalog_load
from generation.services.registry import bundled_models_register

DEMO_USERS = (("editor", "Editor"), ("reviewer", "Reviewer"), ("admin", "Admin"))


class Command(BaseCommand):
    help = (
        "Prepare the database: migrate, create the role groups, load the theme catalog, "
        "register the bundled model. Idempotent. --demo also creates the users editor, "
        "reviewer and admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="create the demo users")
        parser.add_argument(
            "--no-models", action="store_true", help="skip converting the bundled model"
        )

    def handle(self, *args, demo=False, no_models=False, verbosity=1, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        call_command("createcachetable", verbosity=max(verbosity - 1, 0))
        groups = roles_sync()
        self.stdout.write(f"Roles: {', '.join(group.name for group in groups)}.")
        guidelines_ensure()
        # Stories stored before the near-duplicate index (or imported) join it.
        call_command("near_duplicates", verbosity=verbosity)
        report = catalog_load()
        self.stdout.write(
            f"Theme catalog: {len(report.created)} added "
            f"({len(report.restricted)} held as restricted), "
            f"{len(report.duplicates)} already there."
        )
        if not no_models:
            self._models()
        if demo:
            self._demo_users()

    def _models(self):
        try:
            profiles = bundled_models_register()
        except RuntimeError as error:
            self.stderr.write(self.style.WARNING(f"Bundled model skipped: {error}"))
            return
        names = ", ".join(profile.name for profile in profiles)
        self.stdout.write(f"Models: {names} ({profiles[0].model}).")

    @transaction.atomic
    def _demo_users(self):
        User = get_user_model()
        chosen = settings.STORYAPP_DEMO_PASSWORD
        created = []
        for username, role in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            password = chosen or secrets.token_urlsafe(12)
            user = User.objects.create_user(username=username, password=password)
            if role == "Admin":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            user.groups.add(Group.objects.get(name=role))
            created.append((username, role, password))
        if not created:
            self.stdout.write("Demo users already exist (passwords unchanged).")
            return
        self.stdout.write(self.style.SUCCESS("Demo users created:"))
        for username, role, password in created:
            shown = "(from STORYAPP_DEMO_PASSWORD)" if chosen else password
            self.stdout.write(f"  {username:<9} role {role:<9} password {shown}")
        if not chosen:
            self.stdout.write("These passwords are shown only once.")
