"""Idempotency-Key on POST (Stripe's design): the first request with a key does the work and its
answer is stored with the key in the same transaction; a replay gets that answer again
(`Idempotent-Replayed: true`); the same key with another body is refused with 422. A concurrent
duplicate blocks on the key's unique index until the first commits, then replays its answer, so
concurrent duplicates write once. Error answers are not stored: the key can be used again."""

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import encoders

from crm.api.errors import error_response
from crm.api.permissions import token_of
from crm.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255


def owner_of(request: Request) -> str:
    token = token_of(request)
    return f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update((request.method or "").encode())
    digest.update(request.path.encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(json.loads(record.response_body), status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a view's `post` (or a viewset action) to honour Idempotency-Key."""

    @wraps(handler)
    def wrapped(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "")
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > KEY_MAX_LENGTH or not key.isprintable():
            return error_response(
                400,
                "invalid_idempotency_key",
                f"{HEADER} must be 1 to {KEY_MAX_LENGTH} printable characters.",
            )
        owner, fingerprint = owner_of(request), _fingerprint(request)
        record = IdempotencyKey(
            owner=owner,
            key=key,
            method=request.method or "",
            path=request.path[:255],
            request_hash=fingerprint,
        )
        try:
            with transaction.atomic():
                # The transaction's first write: should the key be taken, it fails before any
                # work, and rolling the transaction back loses nothing (no savepoint needed).
                record.save(force_insert=True)
                response = handler(view, request, *args, **kwargs)
                if response.status_code >= 400:
                    # Nothing of a failed request stays, the key included: it may be sent again.
                    transaction.set_rollback(True)
                    return response
                record.status_code = response.status_code
                record.response_body = json.dumps(response.data, cls=encoders.JSONEncoder)
                record.save(update_fields=["status_code", "response_body"])
        except IntegrityError:
            if record.pk is not None:
                raise  # the handler's, not the key's
            # Another request with this key committed first (we waited for it if needed).
            record = IdempotencyKey.objects.get(owner=owner, key=key)
            if record.request_hash != fingerprint:
                return error_response(
                    422,
                    "idempotency_key_reused",
                    f"This {HEADER} was used for a different request.",
                )
            return _replay(record)
        return response

    return wrapped
