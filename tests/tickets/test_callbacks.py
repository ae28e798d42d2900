from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry, Channel, OutboundEmail, Role
from customers.models import Activity, ActivityKind, ContactKind, ContactPoint, Customer
from customers.services import Identity
from tests.factories import CustomerFactory, StoreFactory, UserFactory, store_staff
from tickets.models import (
    CallbackOutcome,
    CallbackRequest,
    CallbackStatus,
    Inquiry,
    InquiryStatus,
    MessageKind,
)
from tickets.services.callbacks import (
    CALLBACK_RETRY_AFTER,
    callback_log_outcome,
    callback_request,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP, first_name="Rita", last_name="Rep")


@pytest.fixture
def maya():
    customer: Customer = CustomerFactory(first_name="Maya", last_name="Stone")
    ContactPoint.objects.create(customer=customer, kind=ContactKind.EMAIL, value="maya@example.com")
    ContactPoint.objects.create(customer=customer, kind=ContactKind.PHONE, value="+14155550134")
    return customer


def in_hours(hours: float):
    return timezone.now() + timedelta(hours=hours)


def request_for(customer, actor, **kwargs):
    arguments = {
        "customer": customer,
        "phone": "(415) 555-0134",
        "window_start": in_hours(1),
        "window_end": in_hours(3),
        "channel": Channel.PHONE,
        "actor": actor,
    }
    return callback_request(**{**arguments, **kwargs})


class TestRequest:
    def test_a_rep_asks_on_the_customers_behalf(self, maya, rep):
        callback = request_for(maya, rep, note="About the sofa delivery")

        assert callback.phone == "+14155550134"
        assert callback.status == CallbackStatus.PENDING
        assert callback.due_at == callback.window_start
        inquiry = callback.inquiry
        assert inquiry.channel == Channel.CALLBACK
        assert inquiry.customer == maya
        # Staff asked for it: the customer gets no automatic acknowledgement.
        assert inquiry.acknowledgement is None
        assert "About the sofa delivery" in inquiry.messages.get().text
        kinds = set(Activity.objects.filter(customer=maya).values_list("kind", flat=True))
        assert ActivityKind.CALLBACK_REQUESTED in kinds
        assert AuditEntry.objects.filter(action="callback.request").count() == 1

    def test_a_customer_asking_from_a_form_is_found_by_her_details_and_acknowledged(self):
        callback = callback_request(
            identity=Identity(email="new.person@example.com", first_name="Noor"),
            phone="+44 20 7946 0958",
            window_start=in_hours(2),
            window_end=in_hours(4),
            channel=Channel.WEB_FORM,
            actor=None,
        )

        customer = Customer.objects.get(contact_points__value="new.person@example.com")
        assert callback.customer == customer
        # The number she gave is now one of her contact points.
        assert customer.contact_points.filter(kind=ContactKind.PHONE, value="+442079460958")
        assert OutboundEmail.objects.filter(to=["new.person@example.com"]).exists()

    def test_joining_an_existing_inquiry_reopens_it_and_notes_it(self, maya, rep):
        first = request_for(maya, rep)
        callback_log_outcome(
            callback=first, outcome=CallbackOutcome.RESOLVED, note="Sorted", actor=rep
        )

        again = request_for(maya, rep, inquiry=first.inquiry)

        inquiry = Inquiry.objects.get(pk=first.inquiry_id)
        assert again.inquiry == inquiry
        assert inquiry.status == InquiryStatus.OPEN
        assert inquiry.messages.filter(
            kind=MessageKind.NOTE, text__startswith="Call-back requested"
        ).exists()

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"phone": "12"}, "phone", "not a valid phone number"),
            ({"phone": ""}, "phone", "Give the phone number"),
            (
                {"window_start": in_hours(-2), "window_end": in_hours(-1)},
                "window_start",
                "must start in the future",
            ),
            (
                {"window_start": in_hours(3), "window_end": in_hours(2)},
                "window_end",
                "end after it starts",
            ),
            (
                {"window_start": in_hours(1), "window_end": in_hours(10)},
                "window_end",
                "at most 8 hours",
            ),
        ],
    )
    def test_bad_input_is_refused_field_by_field_and_changes_nothing(
        self, maya, rep, changes, field, message
    ):
        with pytest.raises(ValidationError) as error:
            request_for(maya, rep, **changes)

        assert message in " ".join(error.value.message_dict[field])
        assert not Inquiry.objects.exists()
        assert not CallbackRequest.objects.exists()


class TestOutcome:
    def test_no_answer_moves_the_next_try_on_within_the_window(self, maya, rep):
        callback = request_for(maya, rep, window_start=in_hours(-0.01), window_end=in_hours(3))
        before = timezone.now()

        callback = callback_log_outcome(
            callback=callback, outcome=CallbackOutcome.NO_ANSWER, note="", actor=rep
        )

        assert callback.status == CallbackStatus.PENDING
        assert callback.attempts == 1
        assert before + CALLBACK_RETRY_AFTER <= callback.due_at <= in_hours(0.6)
        note = callback.inquiry.messages.filter(kind=MessageKind.NOTE).get()
        assert "no answer (attempt 1)" in note.text

    def test_no_answer_late_in_the_window_moves_to_the_next_days_window(self, maya, rep):
        start, end = in_hours(-0.05), in_hours(0.25)
        callback = request_for(maya, rep, window_start=start, window_end=end)

        callback = callback_log_outcome(
            callback=callback, outcome=CallbackOutcome.NO_ANSWER, note="", actor=rep
        )

        local_start = timezone.localtime(start)
        assert timezone.localtime(callback.due_at) == local_start + timedelta(days=1)

    def test_three_misses_keep_it_on_the_list(self, maya, rep):
        callback = request_for(maya, rep)
        for _ in range(3):
            callback = callback_log_outcome(
                callback=callback, outcome=CallbackOutcome.NO_ANSWER, note="", actor=rep
            )

        assert callback.status == CallbackStatus.PENDING
        assert callback.attempts == 3

    def test_resolved_resolves_the_inquiry_and_writes_the_timeline(self, maya, rep):
        callback = request_for(maya, rep)

        callback = callback_log_outcome(
            callback=callback,
            outcome=CallbackOutcome.RESOLVED,
            note="Refund confirmed",
            actor=rep,
        )

        inquiry = Inquiry.objects.get(pk=callback.inquiry_id)
        assert callback.status == CallbackStatus.RESOLVED
        assert inquiry.status == InquiryStatus.RESOLVED
        assert inquiry.first_responded_at is not None
        note = inquiry.messages.filter(kind=MessageKind.NOTE).get()
        assert "Refund confirmed" in note.text
        logged = Activity.objects.get(customer=maya, kind=ActivityKind.CALLBACK_LOGGED)
        assert "reached and resolved" in logged.summary

    def test_reached_opens_a_new_inquiry_and_closes_the_request(self, maya, rep):
        callback = request_for(maya, rep)

        callback = callback_log_outcome(
            callback=callback, outcome=CallbackOutcome.REACHED, note="", actor=rep
        )

        assert callback.status == CallbackStatus.REACHED
        assert Inquiry.objects.get(pk=callback.inquiry_id).status == InquiryStatus.OPEN

    def test_a_closed_request_takes_no_more_outcomes(self, maya, rep):
        callback = request_for(maya, rep)
        callback_log_outcome(callback=callback, outcome=CallbackOutcome.REACHED, actor=rep)

        with pytest.raises(ValidationError, match="already closed"):
            callback_log_outcome(callback=callback, outcome=CallbackOutcome.NO_ANSWER, actor=rep)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class TestCallbackList:
    def test_pending_call_backs_by_due_time_overdue_first(self, maya, rep):
        later = request_for(maya, rep, window_start=in_hours(2), window_end=in_hours(4))
        overdue = request_for(maya, rep, window_start=in_hours(-0.05), window_end=in_hours(1))
        done = request_for(maya, rep)
        callback_log_outcome(callback=done, outcome=CallbackOutcome.REACHED, actor=rep)

        page = signed_in(rep).get(reverse("tickets:callbacks"))

        rows = page.context["rows"]
        assert [row.callback for row in rows] == [overdue, later]
        assert [row.overdue for row in rows] == [True, False]
        html = page.content.decode()
        assert 'href="tel:+14155550134"' in html and "callback-overdue" in html
        assert overdue.inquiry.reference in html

    def test_logging_an_outcome_from_the_list(self, maya, rep):
        callback = request_for(maya, rep)

        response = signed_in(rep).post(
            reverse("tickets:callback_outcome", args=[callback.pk]),
            {"outcome": "no_answer", "note": "Voicemail"},
            follow=True,
        )

        callback.refresh_from_db()
        assert callback.attempts == 1 and callback.status == CallbackStatus.PENDING
        assert "No answer from Maya Stone" in response.content.decode()

    def test_three_misses_are_flagged_on_the_list(self, maya, rep):
        callback = request_for(maya, rep)
        for _ in range(3):
            callback_log_outcome(callback=callback, outcome=CallbackOutcome.NO_ANSWER, actor=rep)

        page = signed_in(rep).get(reverse("tickets:callbacks"))

        assert page.context["rows"][0].flagged
        assert "decide whether to keep trying" in page.content.decode()

    def test_an_outcome_must_be_chosen(self, maya, rep):
        callback = request_for(maya, rep)

        response = signed_in(rep).post(
            reverse("tickets:callback_outcome", args=[callback.pk]), {"note": "?"}, follow=True
        )

        assert "Choose how the call went." in response.content.decode()
        assert CallbackRequest.objects.get(pk=callback.pk).attempts == 0

    def test_store_staff_see_only_their_stores_call_backs(self, maya, rep):
        store = StoreFactory()
        manager = store_staff(store)
        ours = request_for(maya, manager)
        request_for(maya, rep)

        rows = signed_in(manager).get(reverse("tickets:callbacks")).context["rows"]

        assert [row.callback for row in rows] == [ours]

    def test_the_empty_list_says_so(self, rep):
        page = signed_in(rep).get(reverse("tickets:callbacks"))

        assert "No call-backs to make" in page.content.decode()

    @pytest.mark.parametrize("count", [2, 30])
    def test_query_budget_does_not_grow_with_the_list(
        self, count, maya, rep, django_assert_num_queries
    ):
        for n in range(count):
            request_for(maya, rep, window_start=in_hours(1 + n / 60), window_end=in_hours(3))
        client = signed_in(rep)

        # user, the page count, the page with customers and inquiries (the session comes from
        # the shared cache)
        with django_assert_num_queries(3):
            response = client.get(reverse("tickets:callbacks"))

        assert len(response.context["rows"]) == count
