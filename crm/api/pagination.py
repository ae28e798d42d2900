from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Cursor pages (stable under inserts, cost independent of depth), newest first."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Any) -> Any:
        # A cursor the API did not hand out is a bad request, not a missing page.
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from error

    def get_page_size(self, request: Any) -> int:
        # DRF falls back to the default page size for any value it can't read; say what's wrong.
        values = request.query_params.getlist(self.page_size_query_param)
        if not values or values == [""]:
            return self.page_size
        message = f"Give one whole number, 1 or more (a page holds at most {self.max_page_size})."
        try:
            (size,) = (int(value) for value in values)
        except ValueError as error:  # not a number, or more than one
            raise ValidationError({self.page_size_query_param: [message]}) from error
        if size < 1:
            raise ValidationError({self.page_size_query_param: [message]})
        return min(size, self.max_page_size)
