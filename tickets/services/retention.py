"""How long the files of resolved inquiries are kept: CRM_ATTACHMENT_RETENTION_DAYS after an
inquiry was resolved, its attachments (files and records) are deleted, and the audit log says how
many went. An inquiry re-opened in the meantime keeps its files; 0 keeps every file for good."""

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.models import AuditEntry
from crm.services import audit_entry
from tickets.models import Attachment, Inquiry, InquiryStatus

PURGE_BATCH = 200


def attachments_purge(*, now: datetime | None = None) -> int:
    """Delete the attachments of inquiries resolved longer ago than the retention period, a batch
    per transaction; returns how many went. Safe to run twice, and on two workers at once."""
    days = settings.CRM_ATTACHMENT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = Attachment.objects.filter(
        message__inquiry__status=InquiryStatus.RESOLVED, message__inquiry__resolved_at__lt=cutoff
    )
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                expired.select_for_update(of=("self",), skip_locked=True)
                .select_related("message")
                .order_by("pk")[:PURGE_BATCH]
            )
            if not batch:
                return purged
            # The files first: a failure after this leaves records whose file is missing (their
            # download answers 404), never a file nobody knows of.
            for attachment in batch:
                attachment.file.delete(save=False)
            Attachment.objects.filter(pk__in=[attachment.pk for attachment in batch]).delete()
            per_inquiry = Counter(attachment.message.inquiry_id for attachment in batch)
            AuditEntry.objects.bulk_create(
                audit_entry(
                    actor=None,
                    action="attachments.purge",
                    obj=Inquiry(pk=inquiry_id),
                    data={"files": count, "retention_days": days},
                )
                for inquiry_id, count in sorted(per_inquiry.items())
            )
        purged += len(batch)
