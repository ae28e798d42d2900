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
        except (DrfValidationError, DjangoValidationError) as error:
            detail = (
                django_validation_to_drf(error).detail
                if isinstance(error, DjangoValidationError)
                else error.detail
            )
            results.append(
                {
                    "index": index,
                    "status": 400,
                    "error": {"code": "invalid", "fields": _flatten(detail)},
                }
            )
        except APIException as error:
            results.append(
                {
                    "index": index,
                    "status": error.status_code,
                    "error": {"code": error.default_code, "message": str(error.detail)},
                }
            )
        else:
            results.append({"index": index, "status": data.pop("_status", 201), "data": data})
    return results
