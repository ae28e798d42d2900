"""Integration tokens: `Authorization: Bearer crm_<prefix>_<secret>`. The prefix finds the token,
the secret is compared with its stored hash."""

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import prefetch_related_objects
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from crm.http import request_token
from crm.models import IntegrationToken
from crm.services import audit_record

# last_used_at is written (and the token's use audited) at most this often per token: not one
# write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def secret_hash(secret: str) -> str:
    # The secret is 256 random bits: a fast hash is enough, there is nothing to guess.
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(raw: str) -> tuple[str, str] | None:
    # The secret is URL-safe base64, which may itself contain "_": split twice, no more.
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "crm" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class TokenAuthentication(authentication.BaseAuthentication):
    """request.auth is the IntegrationToken; request.user stays anonymous (a system, not a
    person), so every permission check asks the token."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, IntegrationToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, raw = header.partition(" ")
        if scheme != self.keyword or not raw.startswith("crm_"):
            return None
        parsed = parse_token(raw.strip())
        token = (
            IntegrationToken.objects.filter(prefix=parsed[0], revoked_at__isnull=True).first()
            if parsed
            else None
        )
        if (
            token is None
            or parsed is None
            or not hmac.compare_digest(token.secret_hash, secret_hash(parsed[1]))
        ):
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        if not token.all_stores:
            # The stores it is limited to, read once for every check of the request.
            prefetch_related_objects([token], "stores")
        request_token.set(f"crm_{token.prefix}")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            # The token's use is audited as often as it is noted: the first request of each
            # minute in which it is used. (The changes it makes are audited one by one.) Entry
            # first: were the update lost, the next request would note and audit it again.
            audit_record(
                actor=None,
                action="token.use",
                obj=token,
                data={"method": request.method, "path": request.path},
            )
            IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
