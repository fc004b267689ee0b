"""Read queries of the curation app."""

from django.db.models import QuerySet

from .models import Theme, ThemeEvent


def theme_list(*, q: str = "", bucket: str = "all") -> QuerySet[Theme]:
    return Theme.objects.in_bucket(bucket).search(q).select_related("decided_by")


def theme_bucket_counts(*, q: str = "") -> dict[str, int]:
    """Counts per bucket for the themes matching the search (one query)."""
    return Theme.objects.search(q).bucket_counts()


def theme_events(*, theme: Theme) -> QuerySet[ThemeEvent]:
    return theme.events.select_related("actor")
