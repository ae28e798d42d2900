"""Facts about the HTTP request that depend on how the site is deployed."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request, for per-client rate limits. Behind
    CRM_TRUSTED_PROXY_COUNT proxies it is the one the first of them saw, read from the right of
    X-Forwarded-For: entries further left come from the client and can be forged."""
    proxies = settings.CRM_TRUSTED_PROXY_COUNT
    forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"
