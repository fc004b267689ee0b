"""A paginator for wide, joined lists that stays fast deep into the list and as it grows."""

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class DeferredJoinPaginator(Paginator):
    """Pages of a wide, joined queryset that stay fast deep into the list.

    The page's primary keys come from a narrow query (the ordering index, no joins, no text
    columns), then only those rows are loaded with their joins. A plain OFFSET over the joined
    query would build and throw away every skipped row.

    The count reads at most ``count_cap + 1`` rows: past that the list says "more than" (an
    exact count of a million rows scans them all on every page). Pages past the cap still
    work: each page reads one row more than it shows to know whether there is a next one.
    """

    def __init__(self, *args, count_cap: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_cap = settings.STORYAPP_COUNT_CAP if count_cap is None else count_cap

    @cached_property
    def count(self) -> int:
        rows_of: QuerySet = self.object_list  # type: ignore[assignment]  # always a queryset here
        # Unordered: any rows will do for a count, so no sort of every matching row.
        return rows_of.select_related(None).order_by().values("pk")[: self.count_cap + 1].count()

    @property
    def count_capped(self) -> bool:
        """Whether there are more rows than were counted (the count is a lower bound)."""
        return self.count > self.count_cap

    def validate_number(self, number):
        if not self.count_capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows_of: QuerySet = self.object_list  # type: ignore[assignment]  # always a queryset here
        narrow = rows_of.select_related(None).values_list("pk", flat=True)
        ids = list(narrow[bottom : bottom + self.per_page + 1])
        rows = {row.pk: row for row in rows_of.filter(pk__in=ids[: self.per_page])}
        page = CappedPage([rows[pk] for pk in ids[: self.per_page] if pk in rows], number, self)
        page.more = len(ids) > self.per_page
        return page


class CappedPage(Page):
    """A page that knows from its own rows whether another follows (past a capped count)."""

    more = False

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return self.start_index() + len(self) - 1 if len(self) else 0
