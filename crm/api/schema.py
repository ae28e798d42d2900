"""What the OpenAPI schema says about the API's shared parts: the token scheme, the
Idempotency-Key header of every POST, empty query parameters, and the error shape."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.auth.TokenAuthentication"
    name = "IntegrationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "crm_<prefix>_<secret>",
            "description": "An integration token made by an admin; its scopes, channels and "
            "stores limit what it may read and write.",
        }


class ErrorDetailSerializer(serializers.Serializer):
    # Declared here, not as attributes: one of them is called "fields", as Serializer.fields is.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "status": serializers.IntegerField(),
            "code": serializers.CharField(),
            "message": serializers.CharField(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="Messages by field; nested fields with dots, list items by index.",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    error = ErrorDetailSerializer()


IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Send the same key to retry safely: the first answer is replayed; the same "
    "key with a different body is refused with 422.",
}


def add_idempotency_header(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every POST takes an Idempotency-Key."""
    for operations in result.get("paths", {}).values():
        post = operations.get("post")
        if post is not None:
            post.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
    return result


def allow_empty_query_parameters(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: an optional query parameter sent empty (`?status=`,
    as a form leaves a field blank) is as if it were left out, and the schema says so."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result
