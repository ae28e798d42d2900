"""Facts about the HTTP request that depend on how the site is deployed."""

import ipaddress
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest

# The client address of the request being answered, for the audit log (None outside requests).
request_address: ContextVar[str | None] = ContextVar("request_address", default=None)
# The integration token the request was authenticated with ("crm_<prefix>"), for the audit log.
request_token: ContextVar[str | None] = ContextVar("request_token", default=None)


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request, for per-client rate limits. Behind
    CRM_TRUSTED_PROXY_COUNT proxies it is the one the first of them saw, read from the right of
    X-Forwarded-For: entries further left come from the client and can be forged."""
    proxies = settings.CRM_TRUSTED_PROXY_COUNT
    forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def audit_address(request: HttpRequest) -> str | None:
    """client_ip as the audit log stores it: an IP address, or None when there is none."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None
