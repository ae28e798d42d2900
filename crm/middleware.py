import logging
import zoneinfo
from collections.abc import Callable

from django.db import DatabaseError, IntegrityError, InterfaceError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from crm.http import audit_address, request_address, request_token

logger = logging.getLogger(__name__)

# How long a browser is asked to wait when the database is away (restarting, failing over).
DATABASE_RETRY_AFTER_SECONDS = 5


class UserTimezoneMiddleware:
    """Show every time in the signed-in user's own time zone; data is stored in UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class AuditAddressMiddleware:
    """Let the audit entries written while answering a request say which address it came from
    (and, once the API has authenticated it, which integration token sent it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = request_address.set(audit_address(request))
        token = request_token.set(None)
        try:
            return self.get_response(request)
        finally:
            request_token.reset(token)
            request_address.reset(address)


class DatabaseUnavailableMiddleware:
    """A page whose database went away mid-request (a restart, a fail-over) answers 503 with
    Retry-After and a page that says to try again, not a server error: the request's writes were
    rolled back with its connection, and the next request gets a fresh one (CONN_HEALTH_CHECKS).
    The page is rendered without a request context: that would ask the database again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError | InterfaceError) or isinstance(
            exception, IntegrityError
        ):
            return None
        logger.warning("Database unavailable during %s: %s", request.path, exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
