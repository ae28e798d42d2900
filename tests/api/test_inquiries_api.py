"""The inquiries endpoints of the REST API: opening inquiries from each channel, reading one by
its reference (notes only for staff), a customer's inquiries and adding her messages."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, Role, Scope
from customers.models import Activity, ActivityKind, Customer
from customers.services import Identity, customer_merge
from orders.models import Order
from orders.services.orders import LineInput, order_record
from stores.models import StoreRole
from tests.api.conftest import ClientFactory, TokenFactory
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff, web_inquiry
from tickets.models import Inquiry, InquiryStatus, Message, MessageKind
from tickets.services.workspace import inquiry_note_add, inquiry_reply

pytestmark = pytest.mark.django_db

CREATE = reverse("api:inquiry-list")


def detail(reference: str) -> str:
    return reverse("api:inquiry-detail", args=[reference])


def messages(reference: str) -> str:
    return reverse("api:inquiry-messages", args=[reference])


def of_customer(pk: int) -> str:
    return reverse("api:customer-inquiries", args=[pk])


def snapshot() -> tuple[int, int, int, int]:
    return (
        Inquiry.objects.count(),
        Message.objects.count(),
        Customer.objects.count(),
        Activity.objects.count(),
    )


def order_of(email: str, number: str) -> Order:
    product = ProductFactory.create()
    return order_record(
        identity=Identity(email=email, first_name="Maya"),
        channel=Channel.WEB,
        lines=[LineInput(sku=product.sku, quantity=1)],
        number=number,
    )


def queries_of(request: Callable[[], Any]) -> int:
    assert request().status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert request().status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def system(token_factory: TokenFactory, api_client: ClientFactory) -> Any:
    """A web shop's token: reads and writes inquiries from the web form (and chat)."""
    _, raw = token_factory(
        scopes=[Scope.INQUIRIES_READ, Scope.INQUIRIES_WRITE],
        channels=[Channel.WEB_FORM, Channel.PORTAL],
    )
    return api_client(raw)


@pytest.fixture
def rep_client(api_client: ClientFactory) -> Any:
    return api_client(user=UserFactory.create(role=Role.REP))


class TestOpen:
    def test_web_form_inquiry_with_her_order(self, system: Any) -> None:
        order = order_of("maya@example.com", "W500001")
        response = system.post(
            CREATE,
            {
                "channel": "web_form",
                "email": "maya@example.com",
                "first_name": "Maya",
                "subject": "Wrong size",
                "text": "I got an L instead of an M.",
                "order_number": "w500001",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        inquiry = Inquiry.objects.get()
        assert body["reference"] == inquiry.reference
        assert body["status"] == InquiryStatus.NEW
        assert body["order_number"] == "W500001"
        assert body["customer"] == order.customer_id
        assert body["tracking_url"] == settings.CRM_SITE_URL + inquiry.get_tracking_url()
        assert inquiry.order == order
        assert inquiry.acknowledgement is not None

    def test_chat_transcript_is_a_web_form_inquiry(self, system: Any) -> None:
        transcript = "Maya: When does my parcel come?\nBot: Let me get a colleague."
        response = system.post(
            CREATE,
            {"channel": "chat", "email": "maya@example.com", "text": transcript},
            format="json",
        )
        assert response.status_code == 201
        assert response.json()["channel"] == Channel.WEB_FORM
        assert Message.objects.get().text == transcript

    def test_phone_log_by_a_rep_for_a_known_customer(self, rep_client: Any) -> None:
        inquiry = web_inquiry("maya@example.com")
        customer = inquiry.customer
        assert customer is not None
        response = rep_client.post(
            CREATE,
            {"channel": "phone", "customer": customer.pk, "text": "She called about a refund."},
            format="json",
        )
        assert response.status_code == 201
        opened = Inquiry.objects.get(pk=int(response.json()["reference"][2:]) - 10000)
        assert opened.customer == customer
        assert opened.acknowledgement is None
        assert Activity.objects.filter(kind=ActivityKind.CALL_LOGGED, customer=customer).exists()

    def test_store_inquiry_needs_a_token_of_that_store(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        own, other = StoreFactory.create(code="st01"), StoreFactory.create(code="st02")
        _, raw = token_factory(
            scopes=[Scope.INQUIRIES_WRITE], channels=[Channel.STORE], stores=[own]
        )
        client = api_client(raw)
        body = {"channel": "store", "phone": "+1 415 555 0134", "text": "Zip broken."}
        assert client.post(CREATE, {**body, "store": "st01"}, format="json").status_code == 201
        before = snapshot()
        assert client.post(CREATE, {**body, "store": other.code}, format="json").status_code == 403
        missing = client.post(CREATE, body, format="json")
        assert "store" in missing.json()["error"]["fields"]
        assert snapshot() == before

    def test_store_staff_only_for_their_store(self, api_client: ClientFactory) -> None:
        own, other = StoreFactory.create(code="st01"), StoreFactory.create(code="st02")
        client = api_client(user=store_staff(own, StoreRole.ASSOCIATE))
        body = {"channel": "store", "email": "maya@example.com", "text": "Zip broken."}
        assert client.post(CREATE, {**body, "store": "st01"}, format="json").status_code == 201
        assert client.post(CREATE, {**body, "store": other.code}, format="json").status_code == 403

    def test_a_token_without_the_phone_channel_cannot_log_a_call(self, system: Any) -> None:
        response = system.post(
            CREATE,
            {"channel": "phone", "email": "maya@example.com", "text": "Called."},
            format="json",
        )
        assert response.status_code == 403
        assert "phone" in response.json()["error"]["message"]
        assert snapshot() == (0, 0, 0, 0)

    def test_an_order_of_another_customer_is_refused(self, system: Any) -> None:
        order_of("someone-else@example.com", "W500002")
        before = snapshot()
        response = system.post(
            CREATE,
            {
                "channel": "web_form",
                "email": "maya@example.com",
                "text": "Where is it?",
                "order_number": "W500002",
            },
            format="json",
        )
        assert response.status_code == 400
        assert "order_number" in response.json()["error"]["fields"]
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"channel": "web_form", "email": "m@example.com", "text": "x", "cc": "y"}, "cc"),
            ({"channel": "web_form", "email": "m@example.com", "text": 5}, "text"),
            ({"channel": "web_form", "email": "m@example.com", "text": ["x"]}, "text"),
            ({"channel": "web_form", "email": "m@example.com", "text": "x" * 100_001}, "text"),
            (
                {
                    "channel": "web_form",
                    "email": "m@example.com",
                    "text": "x",
                    "subject": "s" * 301,
                },
                "subject",
            ),
            ({"channel": "web_form", "email": "m@example.com", "text": ""}, "text"),
            ({"channel": "web_form", "text": "x"}, "customer"),
            ({"channel": "web_form", "customer": 999999, "text": "x"}, "customer"),
            ({"channel": "web_form", "customer": "abc", "text": "x"}, "customer"),
            ({"channel": "web_form", "email": "not-mail", "text": "x"}, "email"),
            (
                {"channel": "web_form", "email": "m@example.com", "text": "x", "store": "zz"},
                "store",
            ),
            ({"channel": "email", "email": "m@example.com", "text": "x"}, "channel"),
            ({"channel": "fax", "email": "m@example.com", "text": "x"}, "channel"),
        ],
    )
    def test_invalid_input_is_a_400_and_nothing_stored(
        self, system: Any, body: dict[str, Any], field: str
    ) -> None:
        before = snapshot()
        response = system.post(CREATE, body, format="json")
        assert response.status_code == 400, response.json()
        assert field in response.json()["error"]["fields"], response.json()
        assert snapshot() == before


class TestPermissions:
    def test_read_only_token_cannot_open(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(scopes=[Scope.INQUIRIES_READ], channels=[Channel.WEB_FORM])
        response = api_client(raw).post(
            CREATE, {"channel": "web_form", "email": "m@example.com", "text": "x"}, format="json"
        )
        assert response.status_code == 403

    def test_a_customer_account_gets_nothing(self, api_client: ClientFactory) -> None:
        inquiry = web_inquiry()
        client = api_client(user=UserFactory.create(role=Role.CUSTOMER))
        assert client.get(detail(inquiry.reference)).status_code == 403
        assert (
            client.post(
                CREATE, {"channel": "portal", "email": "m@example.com", "text": "x"}, format="json"
            ).status_code
            == 403
        )

    def test_a_customers_token_cannot_read_inquiries(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        inquiry = web_inquiry()
        _, raw = token_factory(scopes=[Scope.CUSTOMERS_READ])
        assert api_client(raw).get(detail(inquiry.reference)).status_code == 403


class TestDetail:
    def test_tokens_get_public_messages_staff_get_notes_too(
        self, system: Any, rep_client: Any
    ) -> None:
        inquiry = web_inquiry(text="Where is my order?")
        supervisor = UserFactory.create(role=Role.SUPERVISOR)
        inquiry_note_add(inquiry=inquiry, text="VIP: be quick.", actor=supervisor)
        inquiry_reply(inquiry=inquiry, text="It ships today.", actor=supervisor)

        public = system.get(detail(inquiry.reference))
        assert public.status_code == 200
        assert [m["kind"] for m in public.json()["messages"]] == ["inbound", "outbound"]
        assert "VIP" not in str(public.json())

        staff = rep_client.get(detail(inquiry.reference.lower().replace("-", "")))
        assert staff.status_code == 200
        assert [m["kind"] for m in staff.json()["messages"]] == ["inbound", "note", "outbound"]

    def test_store_staff_see_their_stores_inquiries_only(self, api_client: ClientFactory) -> None:
        store = StoreFactory.create(code="st01")
        elsewhere = web_inquiry()
        here = web_inquiry("other@example.com", store=store)
        client = api_client(user=store_staff(store, StoreRole.MANAGER))
        assert client.get(detail(here.reference)).status_code == 200
        assert client.get(detail(elsewhere.reference)).status_code == 404

    @pytest.mark.parametrize("reference", ["R-1", "R-99999999", "nonsense", "R-"])
    def test_unknown_references_are_404(self, system: Any, reference: str) -> None:
        response = system.get(detail(reference))
        assert response.status_code == 404
        assert response.json()["error"]["status"] == 404

    def test_query_budget(self, system: Any) -> None:
        inquiry = web_inquiry()
        supervisor = UserFactory.create(role=Role.SUPERVISOR)

        def read() -> Any:
            return system.get(detail(inquiry.reference))

        inquiry_reply(inquiry=inquiry, text="Answer 0", actor=supervisor)
        few = queries_of(read)
        for n in range(18):
            inquiry_reply(inquiry=inquiry, text=f"Answer {n + 1}", actor=supervisor)
        many = queries_of(read)
        assert few == many <= 5
        assert len(read().json()["messages"]) == 20


class TestCustomerInquiries:
    def test_lists_hers_newest_first_by_cursor(self, system: Any) -> None:
        first = web_inquiry("maya@example.com", subject="First")
        assert first.customer is not None
        later = []
        for n in range(3):
            inquiry = web_inquiry("maya@example.com", subject=f"Later {n}")
            Inquiry.objects.filter(pk=inquiry.pk).update(
                created_at=timezone.now() + timedelta(minutes=n + 1)
            )
            later.append(inquiry)
        web_inquiry("someone@example.com")
        page = system.get(of_customer(first.customer.pk), {"page_size": 2}).json()
        assert [i["subject"] for i in page["results"]] == ["Later 2", "Later 1"]
        rest = system.get(page["next"]).json()
        assert [i["subject"] for i in rest["results"]] == ["Later 0", "First"]
        assert rest["next"] is None

    def test_a_merged_id_lists_the_survivors(self, system: Any) -> None:
        a = web_inquiry("a@example.com").customer
        b = web_inquiry("b@example.com").customer
        assert a is not None and b is not None
        customer_merge(survivor=a, merged=b, actor=UserFactory.create(role=Role.SUPERVISOR))
        assert len(system.get(of_customer(b.pk)).json()["results"]) == 2
        assert system.get(of_customer(999999)).status_code == 404

    def test_query_budget(self, system: Any) -> None:
        store = StoreFactory.create()
        customer = web_inquiry("maya@example.com", store=store).customer
        assert customer is not None

        def read() -> Any:
            return system.get(of_customer(customer.pk))

        web_inquiry("maya@example.com", store=store)
        few = queries_of(read)
        for _ in range(18):
            web_inquiry("maya@example.com", store=store)
        many = queries_of(read)
        assert few == many <= 5
        assert len(read().json()["results"]) == 20


class TestAddMessage:
    def test_her_message_joins_the_inquiry(self, system: Any) -> None:
        inquiry = web_inquiry()
        response = system.post(
            messages(inquiry.reference),
            {"channel": "portal", "text": "Any news?"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="m-1",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["inquiry"]["reference"] == inquiry.reference
        assert body["follow_up"] is False
        assert body["message"]["kind"] == MessageKind.INBOUND
        replay = system.post(
            messages(inquiry.reference),
            {"channel": "portal", "text": "Any news?"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="m-1",
        )
        assert replay.json() == body
        assert inquiry.messages.count() == 2

    def test_a_late_message_opens_a_follow_up(self, system: Any) -> None:
        inquiry = web_inquiry()
        Inquiry.objects.filter(pk=inquiry.pk).update(
            status=InquiryStatus.RESOLVED, resolved_at=timezone.now() - timedelta(days=400)
        )
        response = system.post(
            messages(inquiry.reference), {"channel": "web_form", "text": "Again!"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["follow_up"] is True
        assert response.json()["inquiry"]["reference"] != inquiry.reference

    def test_invalid_messages(self, system: Any) -> None:
        inquiry = web_inquiry()
        before = snapshot()
        url = messages(inquiry.reference)
        assert system.post(url, {"channel": "portal", "text": ""}, format="json").status_code == 400
        assert (
            system.post(url, {"channel": "portal", "text": "x", "to": "y"}, format="json")
            .json()["error"]["fields"]
            .get("to")
        )
        assert system.post(url, {"channel": "phone", "text": "x"}, format="json").status_code == 403
        assert (
            system.post(
                messages("R-1"), {"channel": "portal", "text": "x"}, format="json"
            ).status_code
            == 404
        )
        assert snapshot() == before
