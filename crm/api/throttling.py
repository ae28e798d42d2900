from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from crm.api.permissions import token_of


class TokenRateThrottle(SimpleRateThrottle):
    """Each integration token has its own request budget (CRM_API_TOKEN_RATE); people signed in
    through the browser are not counted here."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = token_of(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
