"""A paginator for wide, joined lists that stays fast deep into the list."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class DeferredJoinPaginator(Paginator):
    """Pages of a wide, joined queryset that stay fast deep into the list.

    The page's primary keys come from a narrow query (the ordering index, no joins, no text
    columns), then only those rows are loaded with their joins. A plain OFFSET over the joined
    query would build and throw away every skipped row.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows_of: QuerySet = self.object_list  # type: ignore[assignment]  # always a queryset here
        narrow = rows_of.select_related(None).values_list("pk", flat=True)
        ids = list(narrow[bottom:top])
        rows = {row.pk: row for row in rows_of.filter(pk__in=ids)}
        return Page([rows[pk] for pk in ids if pk in rows], number, self)
