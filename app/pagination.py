"""Pages of rows for list pages, counted only when the page itself cannot tell the total."""

from collections.abc import Callable

from flask_sqlalchemy.pagination import Pagination


class RowsPagination(Pagination):
    """A page of rows (plain columns, not ORM objects: a list page only shows them) from
    `rows(limit, offset)`, with the total from `count`, a function the caller may cache.

    A page that is not full ends the list, so its total is known without a count: a search with
    a few matches (or none) costs one query.
    """

    def __init__(
        self,
        rows: Callable[[int, int], list],
        count: Callable[[], int],
        *,
        page: int,
        per_page: int,
    ):
        super().__init__(page=page, per_page=per_page, error_out=False, rows=rows, counter=count)

    def _query_items(self) -> list:
        return self._query_args["rows"](self.per_page, self._query_offset)

    def _query_count(self) -> int:
        if len(self.items) < self.per_page and (self.items or self.page == 1):
            return self._query_offset + len(self.items)
        return self._query_args["counter"]()
