import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crm.http import audit_address, request_address, request_token


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
