"""Bulk requests: up to BULK_MAX_ITEMS items, each validated and written on its own (a savepoint
each), answered item by item; valid items are stored even when others fail."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DrfValidationError

from crm.api.errors import _flatten, django_validation_to_drf

BULK_MAX_ITEMS = 1000
# What makes one item of a bulk request its own error instead of the request's.
ITEM_ERRORS = (DrfValidationError, DjangoValidationError, APIException)


class BulkRequestSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=BULK_MAX_ITEMS
    )


def bulk_apply(
    items: list[Any],
    serializer_class: type[serializers.Serializer],
    write: Callable[[dict[str, Any]], dict[str, Any]],
    context: dict[str, Any],
) -> list[dict[str, Any]]:
    """Validate and write each item; `write` returns the item's answer body. Each result is
    {"index", "status", "data"} or {"index", "status", "error"} in the API's error shape."""
    results = []
    # One serializer validates every item, as a ListSerializer's child does: its fields are
    # built once, not once per item.
    serializer = serializer_class(context=context)
    for index, item in enumerate(items):
        try:
            validated = serializer.run_validation(item)
            with transaction.atomic():
                data = write(validated)
        except ITEM_ERRORS as error:
            results.append(bulk_error(index, error))
        else:
            results.append(bulk_result(index, data))
    return results


def bulk_result(index: int, data: dict[str, Any]) -> dict[str, Any]:
    """The result of an item written: its answer body, whose "_status" (201 when left out) is
    the item's status."""
    return {"index": index, "status": data.pop("_status", 201), "data": data}


def bulk_error(
    index: int, error: DrfValidationError | DjangoValidationError | APIException
) -> dict[str, Any]:
    """The result of an item refused (one of ITEM_ERRORS), in the API's error shape."""
    if isinstance(error, DjangoValidationError | DrfValidationError):
        detail = (
            django_validation_to_drf(error).detail
            if isinstance(error, DjangoValidationError)
            else error.detail
        )
        return {
            "index": index,
            "status": 400,
            "error": {"code": "invalid", "fields": _flatten(detail)},
        }
    return {
        "index": index,
        "status": error.status_code,
        "error": {"code": error.default_code, "message": str(error.detail)},
    }
