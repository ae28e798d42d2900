"""Page-numbered lists whose total the page has counted already."""

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet


class CountedPaginator(Paginator):
    """A paginator told its count, when the page's tab or summary counts have read it already:
    one query fewer than Paginator, which counts the list again."""

    def __init__(self, object_list: QuerySet[Any] | Sequence[Any], per_page: int, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count
