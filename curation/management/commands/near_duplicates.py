import time

from django.conf import settings
from django.core.management.base import BaseCommand

from curation.services.stories import near_duplicates_backlog


class Command(BaseCommand):
    help = (
        "Index every story not in the near-duplicate index yet (stories made before it, or "
        "imported) and flag those that nearly repeat another story of any theme "
        "(STORYAPP_NEAR_DUPLICATE_SIMILARITY). New stories are indexed as they are stored."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        counts = near_duplicates_backlog()
        self.stdout.write(
            f"Near-duplicates: {counts['indexed']} stories indexed, {counts['flagged']} flagged "
            f"(3-gram similarity >= {settings.STORYAPP_NEAR_DUPLICATE_SIMILARITY:g}%), "
            f"{counts['rejected']} rejected by the gate, in {time.perf_counter() - started:.1f} s."
        )
