from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Cursor pages (stable under inserts, cost independent of depth), newest first."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
