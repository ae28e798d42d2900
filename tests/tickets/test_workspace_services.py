"""What agents do on an inquiry, against PostgreSQL and a real SMTP server on loopback."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditEntry, Channel, OutboundEmail, Role
from customers.models import Activity, ActivityKind, ContactKind, ContactPoint, Customer
from customers.services import Identity
from orders.services import LineInput, order_record
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    QueueFactory,
    StoreFactory,
    UserFactory,
    store_staff,
    web_inquiry,
)
from tickets.models import (
    EventKind,
    Inquiry,
    InquiryStatus,
    MessageKind,
    Priority,
    QueueMembership,
    SlaPolicy,
)
from tickets.services.inquiries import IncomingMessage, inquiry_open, inquiry_receive
from tickets.services.workspace import (
    inquiry_assign,
    inquiry_link_order,
    inquiry_log_call,
    inquiry_merge,
    inquiry_note_add,
    inquiry_reply,
    inquiry_set_priority,
    inquiry_set_queue,
    inquiry_set_tags,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP, first_name="Rita", last_name="Rep")


def inquiry_due(inquiry: Inquiry) -> tuple[timedelta, timedelta]:
    """How long after its arrival the first response and the resolution are due."""
    inquiry = Inquiry.objects.get(pk=inquiry.pk)
    assert inquiry.first_response_due_at and inquiry.resolution_due_at
    return (
        inquiry.first_response_due_at - inquiry.created_at,
        inquiry.resolution_due_at - inquiry.created_at,
    )


def mailed_inquiry() -> Inquiry:
    """Maya wrote an e-mail, then a second one in the same thread."""
    inquiry = inquiry_open(
        channel=Channel.EMAIL,
        identity=Identity(email="maya@example.com", first_name="Maya"),
        message=IncomingMessage(
            text="Where is my sofa?",
            subject="Sofa delivery",
            from_address="maya@example.com",
            message_id="first@mail.example",
        ),
    )
    inquiry, _ = inquiry_receive(
        inquiry=inquiry,
        channel=Channel.EMAIL,
        message=IncomingMessage(
            text="Any news?",
            subject="Re: Sofa delivery",
            from_address="maya@example.com",
            message_id="second@mail.example",
            in_reply_to="first@mail.example",
        ),
    )
    return Inquiry.objects.get(pk=inquiry.pk)


class TestReply:
    def test_the_reply_reaches_her_threaded_and_not_marked_automatic(
        self, rep, mailer_to_sink, django_capture_on_commit_callbacks
    ):
        inquiry = mailed_inquiry()
        acknowledgement = inquiry.acknowledgement.message_id
        mailer_to_sink.deliveries.clear()

        with django_capture_on_commit_callbacks(execute=True):
            message = inquiry_reply(inquiry=inquiry, text="It ships on Monday.", actor=rep)

        assert message.kind == MessageKind.OUTBOUND
        delivery = mailer_to_sink.deliveries[-1]
        mail = delivery.message
        assert delivery.rcpt_tos == ["maya@example.com"]
        assert mail["Subject"] == f"Re: [#{inquiry.reference}] Sofa delivery"
        assert mail["In-Reply-To"] == "<second@mail.example>"
        assert mail["References"].split() == [
            "<first@mail.example>",
            acknowledgement,
            "<second@mail.example>",
        ]
        assert mail["Auto-Submitted"] is None
        assert "It ships on Monday." in mail.get_content()
        # Stored without brackets, so that her answer to it threads back by In-Reply-To.
        assert f"<{message.message_id}>" == mail["Message-ID"]

    def test_the_first_reply_answers_the_inquiry_and_opens_it(self, rep):
        inquiry = web_inquiry()

        inquiry_reply(inquiry=inquiry, text="Hello", actor=rep)

        inquiry.refresh_from_db()
        assert inquiry.first_responded_at is not None
        assert inquiry.status == InquiryStatus.OPEN
        assert Activity.objects.filter(
            customer=inquiry.customer, kind=ActivityKind.INQUIRY_REPLIED
        ).exists()
        assert AuditEntry.objects.filter(action="inquiry.reply", object_id=str(inquiry.pk))

    def test_a_reply_can_set_waiting_on_the_customer(self, rep):
        inquiry = web_inquiry()

        inquiry_reply(inquiry=inquiry, text="Which colour?", actor=rep, status="waiting")

        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.WAITING
        assert inquiry.sla_paused_at is not None

    def test_without_an_address_the_reply_is_kept_and_not_mailed(self, rep):
        customer = CustomerFactory.create()
        ContactPoint.objects.create(customer=customer, kind=ContactKind.PHONE, value="+14155550100")
        inquiry = inquiry_log_call(customer=customer, subject="Hours", text="?", actor=rep)
        emails = OutboundEmail.objects.count()

        message = inquiry_reply(inquiry=inquiry, text="We open at 9.", actor=rep)

        assert message.outbound_email is None
        assert inquiry.messages.filter(kind=MessageKind.OUTBOUND).count() == 1
        assert OutboundEmail.objects.count() == emails

    def test_an_empty_reply_is_refused(self, rep):
        with pytest.raises(ValidationError) as error:
            inquiry_reply(inquiry=web_inquiry(), text="  \r\n ", actor=rep)

        assert "Write the reply first." in error.value.message_dict["text"]


def test_a_note_stays_internal(rep, mailer_to_sink, django_capture_on_commit_callbacks):
    inquiry = web_inquiry()
    emails = OutboundEmail.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        note = inquiry_note_add(inquiry=inquiry, text="She called twice already.", actor=rep)

    assert note.kind == MessageKind.NOTE and not note.is_public
    assert OutboundEmail.objects.count() == emails
    assert not Activity.objects.filter(detail__contains="called twice").exists()


class TestChanges:
    def test_priority_is_recorded_in_the_history(self, rep):
        inquiry = web_inquiry()

        inquiry_set_priority(inquiry=inquiry, priority=Priority.URGENT, actor=rep)

        event = inquiry.events.get(kind=EventKind.PRIORITY)
        assert (event.old_value, event.new_value, event.actor) == ("Normal", "Urgent", rep)

    def test_assignment_needs_a_member_of_the_queue_but_anyone_can_take_it(self, rep):
        queue = QueueFactory.create()
        member, outsider = UserFactory.create(), UserFactory.create()
        QueueMembership.objects.create(queue=queue, user=member)
        inquiry = web_inquiry()
        inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)

        with pytest.raises(ValidationError, match="not a member"):
            inquiry_assign(inquiry=inquiry, assignee=outsider, actor=rep)
        inquiry_assign(inquiry=inquiry, assignee=member, actor=rep)
        assert Inquiry.objects.get(pk=inquiry.pk).assignee == member
        inquiry_assign(inquiry=inquiry, assignee=rep, actor=rep)
        assert Inquiry.objects.get(pk=inquiry.pk).assignee == rep

    def test_moving_to_another_queue_lets_go_of_an_assignee_not_in_it(self, rep):
        first, second = QueueFactory.create(), QueueFactory.create()
        member = UserFactory.create()
        QueueMembership.objects.create(queue=first, user=member)
        inquiry = web_inquiry()
        inquiry_set_queue(inquiry=inquiry, queue=first, actor=rep)
        inquiry_assign(inquiry=inquiry, assignee=member, actor=rep)

        inquiry = inquiry_set_queue(inquiry=inquiry, queue=second, actor=rep)

        assert inquiry.queue == second and inquiry.assignee is None
        assert inquiry.events.filter(kind=EventKind.QUEUE, new_value=second.name).exists()

    def test_the_sla_follows_the_new_queue_and_priority(
        self, rep, django_capture_on_commit_callbacks
    ):
        fast = QueueFactory.create()
        SlaPolicy.objects.create(
            queue=fast, priority=Priority.NORMAL, first_response_minutes=30, resolution_minutes=600
        )
        SlaPolicy.objects.create(
            queue=fast, priority=Priority.URGENT, first_response_minutes=10, resolution_minutes=60
        )
        with django_capture_on_commit_callbacks(execute=True):
            inquiry = web_inquiry()  # routed to the default queue
        assert inquiry_due(inquiry) == (timedelta(hours=6), timedelta(days=3))

        inquiry = inquiry_set_queue(inquiry=inquiry, queue=fast, actor=rep)
        assert inquiry_due(inquiry) == (timedelta(minutes=30), timedelta(hours=10))

        inquiry = inquiry_set_priority(inquiry=inquiry, priority=Priority.URGENT, actor=rep)
        assert inquiry_due(inquiry) == (timedelta(minutes=10), timedelta(hours=1))

    def test_tags_are_cleaned(self, rep):
        inquiry = inquiry_set_tags(
            inquiry=web_inquiry(), tags=[" Refund", "damaged ", "refund", ""], actor=rep
        )

        assert inquiry.tags == ["refund", "damaged"]


def an_order(customer_email: str, number: str):
    product = ProductFactory(price=Decimal("20.00"))
    return order_record(
        identity=Identity(email=customer_email),
        channel=Channel.WEB,
        lines=[LineInput(sku=product.sku, quantity=1)],
        number=number,
    )


class TestLinks:
    def test_an_order_of_hers_links_and_anothers_does_not(self, rep):
        inquiry = web_inquiry(email="maya@example.com")
        hers = an_order("maya@example.com", "W1")
        not_hers = an_order("noor@example.com", "W2")

        inquiry = inquiry_link_order(inquiry=inquiry, order=hers, actor=rep)
        with pytest.raises(ValidationError, match="not this customer's"):
            inquiry_link_order(inquiry=inquiry, order=not_hers, actor=rep)

        assert Inquiry.objects.get(pk=inquiry.pk).order == hers
        assert inquiry.events.get(kind=EventKind.ORDER_LINKED).new_value == "W1"

    def test_merging_moves_the_conversation_and_closes_the_other(
        self, rep, mailer_to_sink, django_capture_on_commit_callbacks
    ):
        survivor = web_inquiry(text="First question")
        other = web_inquiry(text="Same thing again")
        inquiry_set_tags(inquiry=other, tags=["sofa"], actor=rep)
        mailer_to_sink.deliveries.clear()

        with django_capture_on_commit_callbacks(execute=True):
            inquiry_merge(survivor=survivor, merged=other, actor=rep)

        other.refresh_from_db()
        assert survivor.messages.count() == 2
        assert other.messages.count() == 0
        assert other.merged_into == survivor
        assert other.status == InquiryStatus.RESOLVED
        assert Inquiry.objects.get(pk=survivor.pk).tags == ["sofa"]
        assert survivor.events.filter(kind=EventKind.MERGED).exists()
        assert other.events.filter(kind=EventKind.MERGED).exists()
        # A merge is not an answer: nobody asks her to rate it.
        assert mailer_to_sink.deliveries == []

    def test_inquiries_of_two_customers_cannot_merge(self, rep):
        with pytest.raises(ValidationError, match="same customer"):
            inquiry_merge(
                survivor=web_inquiry(email="maya@example.com"),
                merged=web_inquiry(email="noor@example.com"),
                actor=rep,
            )


class TestLogCall:
    def test_a_call_becomes_a_phone_inquiry_without_acknowledgement(self, rep):
        customer = CustomerFactory.create()
        ContactPoint.objects.create(
            customer=customer, kind=ContactKind.EMAIL, value="c@example.com"
        )

        inquiry = inquiry_log_call(
            customer=customer, subject="Store hours", text="Asked about Sunday.", actor=rep
        )

        assert inquiry.channel == Channel.PHONE
        assert inquiry.status == InquiryStatus.OPEN
        assert inquiry.acknowledgement is None
        assert inquiry.first_responded_at is not None
        assert inquiry.opened_by == rep

    def test_resolved_on_the_call(self, rep):
        inquiry = inquiry_log_call(
            customer=CustomerFactory.create(),
            subject="Hours",
            text="Sunday 11-5.",
            resolved=True,
            actor=rep,
        )

        assert inquiry.status == InquiryStatus.RESOLVED

    def test_store_staff_log_it_for_their_store(self):
        store = StoreFactory()
        manager = store_staff(store)

        inquiry = inquiry_log_call(
            customer=CustomerFactory.create(), subject="Hours", text="Sunday?", actor=manager
        )

        assert inquiry.store == store

    def test_missing_subject_and_text_are_reported_together(self, rep):
        with pytest.raises(ValidationError) as error:
            inquiry_log_call(customer=CustomerFactory.create(), subject=" ", text="", actor=rep)

        assert set(error.value.message_dict) == {"subject", "text"}
        assert not Inquiry.objects.exists()
        assert Customer.objects.count() == 1
