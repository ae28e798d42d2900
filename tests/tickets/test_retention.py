"""Files of resolved inquiries are kept CRM_ATTACHMENT_RETENTION_DAYS, then deleted."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from crm.models import AuditEntry, Role
from tests.factories import UserFactory, web_inquiry
from tickets.models import Attachment, Inquiry, InquiryStatus
from tickets.services.retention import attachments_purge
from tickets.services.workspace import inquiry_reply
from tickets.tasks import purge_attachments

pytestmark = pytest.mark.django_db


def with_photo(email: str, *, resolved_days_ago: int | None) -> Attachment:
    inquiry = web_inquiry(email=email)
    photo = Attachment.objects.create(
        message=inquiry.messages.get(),
        filename="photo.jpg",
        content_type="image/jpeg",
        size=4,
        file=ContentFile(b"jpeg", name="photo.jpg"),
    )
    if resolved_days_ago is not None:
        rep = UserFactory(role=Role.REP)
        inquiry_reply(inquiry=inquiry, text="Done.", actor=rep, status=InquiryStatus.RESOLVED)
        Inquiry.objects.filter(pk=inquiry.pk).update(
            resolved_at=timezone.now() - timedelta(days=resolved_days_ago)
        )
    return photo


def test_the_files_of_long_resolved_inquiries_go_and_the_rest_stay(settings) -> None:
    settings.CRM_ATTACHMENT_RETENTION_DAYS = 90
    old = with_photo("old@example.com", resolved_days_ago=91)
    recent = with_photo("recent@example.com", resolved_days_ago=30)
    still_open = with_photo("open@example.com", resolved_days_ago=None)
    Inquiry.objects.filter(pk=still_open.message.inquiry_id).update(
        created_at=timezone.now() - timedelta(days=400)
    )

    assert purge_attachments() == 1

    assert set(Attachment.objects.all()) == {recent, still_open}
    assert not old.file.storage.exists(old.file.name)
    assert recent.file.storage.exists(recent.file.name)
    entry = AuditEntry.objects.get(action="attachments.purge")
    assert entry.object_id == str(old.message.inquiry_id)
    assert entry.data == {"files": 1, "retention_days": 90}
    assert attachments_purge() == 0  # a second run finds nothing more


def test_zero_days_keeps_every_file(settings) -> None:
    settings.CRM_ATTACHMENT_RETENTION_DAYS = 0
    photo = with_photo("old@example.com", resolved_days_ago=5000)

    assert attachments_purge() == 0

    assert Attachment.objects.get() == photo
