"""Writes shared by every app."""

from typing import Any

from django.db import models

from crm.models import AuditEntry, User


def audit_record(
    *, actor: User | None, action: str, obj: models.Model, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Append who did what to which record. Call it inside the transaction of the change."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data or {},
    )
