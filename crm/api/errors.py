"""One error shape for the whole API:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"lines": ["..."]}}}

`fields` maps each bad field (nested fields with dots, list items with their index) to its
messages; a service's ValidationError becomes the same 400 as a serializer's."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from crm.middleware import DATABASE_RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                fields.setdefault(field, []).extend(messages)
        return fields
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        fields = {}
        for index, item in enumerate(detail):
            for field, messages in _flatten(
                item, f"{prefix}.{index}" if prefix else str(index)
            ).items():
                fields.setdefault(field, []).extend(messages)
        return fields
    return {prefix or "non_field_errors": [str(detail)]}


def django_validation_to_drf(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError({"non_field_errors": error.messages})


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = (
        "The service is briefly unavailable and nothing was recorded; send the request again "
        "(with the same Idempotency-Key) in a few seconds."
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DatabaseError | InterfaceError) and not isinstance(exc, IntegrityError):
        # The transaction of the request was rolled back with its connection: nothing is half
        # written. The next request gets a fresh connection (CONN_HEALTH_CHECKS).
        logger.warning("Database unavailable during %s: %s", context["request"].path, exc)
        response = api_exception_handler(DatabaseUnavailable(), context)
        if response is not None:
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = django_validation_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "Some fields are not valid." if fields else "The request is not valid."
        code = "invalid"
    else:
        detail = getattr(exc, "detail", "")
        message = str(detail) if detail else str(exc)
        code = str(getattr(detail, "code", None) or getattr(exc, "default_code", "error"))
        fields = {}
    response.data = {
        "error": {
            "status": response.status_code,
            "code": str(code),
            "message": message,
            "fields": fields,
        }
    }
    return response


def error_response(status_code: int, code: str, message: str, **fields: list[str]) -> Response:
    """An error in the API's shape, for views that answer without raising."""
    return Response(
        {"error": {"status": status_code, "code": code, "message": message, "fields": fields}},
        status=status_code,
    )


__all__ = ["api_exception_handler", "django_validation_to_drf", "error_response", "status"]
