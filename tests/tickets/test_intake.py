"""The one intake service: every channel opens an inquiry the same way."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Channel, OutboundEmail, OutboundEmailStatus
from customers.models import Activity, ActivityKind
from customers.services import Identity
from tests.factories import web_inquiry
from tickets.models import Inquiry, InquiryStatus, Message
from tickets.services.inquiries import IncomingMessage, inquiry_open

pytestmark = pytest.mark.django_db


def test_web_inquiry_is_stored_routed_and_acknowledged(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = web_inquiry(email="Maya@Example.com")
    inquiry.refresh_from_db()
    assert inquiry.customer is not None
    assert inquiry.requester_email == "maya@example.com"
    assert inquiry.status == InquiryStatus.NEW
    assert inquiry.queue is not None and inquiry.queue.is_default
    assert inquiry.acknowledgement is not None
    assert inquiry.acknowledgement.status == OutboundEmailStatus.SENT
    assert inquiry.reference in inquiry.acknowledgement.subject
    assert Activity.objects.filter(
        customer=inquiry.customer, kind=ActivityKind.INQUIRY_OPENED
    ).exists()


def test_inquiry_without_text_is_refused_and_nothing_is_stored():
    with pytest.raises(ValidationError) as error:
        inquiry_open(
            channel=Channel.WEB_FORM,
            identity=Identity(email="a@example.com"),
            message=IncomingMessage(text="   "),
        )
    assert "text" in error.value.message_dict
    assert not Inquiry.objects.exists()


def test_rolled_back_intake_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        web_inquiry()
        raise RuntimeError("the request failed after the intake")
    assert callbacks == []
    assert not Inquiry.objects.exists()
    assert not Message.objects.exists()
    assert not OutboundEmail.objects.exists()
