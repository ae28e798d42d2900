"""The inquiries endpoints: open an inquiry from a web form, a phone log, the portal, a store or a
chat transcript; read one by its reference; a customer's inquiries; add her message. Raw e-mail
intake has its own endpoint (/inbound/email/)."""

import re
from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.idempotency import idempotent
from crm.api.permissions import actor_of, check_write, token_of
from crm.api.schema import ErrorSerializer
from crm.models import Channel, Scope
from customers.api.views import CUSTOMER_ID, ERRORS_ONE, ERRORS_READ, ERRORS_WRITE, live_customer_id
from customers.models import Customer
from customers.services import Identity, customer_resolve
from orders.models import Order
from tickets.api.serializers import (
    InquiryCreateSerializer,
    InquiryDetailSerializer,
    InquiryMessageCreateSerializer,
    InquirySummarySerializer,
    MessageLandedSerializer,
    MessageSerializer,
    stored_channel,
)
from tickets.models import REFERENCE_OFFSET, Inquiry
from tickets.selectors.customer import PUBLIC_KINDS
from tickets.selectors.workspace import visible_inquiries
from tickets.services.inquiries import IncomingMessage, inquiry_open, inquiry_receive

REFERENCE = re.compile(r"^#?R-?(\d{1,12})$", re.IGNORECASE)
# Inquiries a customer starts herself get an acknowledgement; ones staff log do not.
ACKNOWLEDGED_CHANNELS = (Channel.WEB_FORM, Channel.PORTAL)

INQUIRY_EXAMPLE = {
    "reference": "R-10234",
    "status": "new",
    "channel": "web_form",
    "subject": "Wrong size delivered",
    "customer": 4211,
    "store": None,
    "order_number": "W100231",
    "tracking_url": "https://crm.example.com/support/track/9cQk1u7Zr0X1mP2w4Yb8nA3e5Lh6Tg0s/",
    "created_at": "2025-01-10T08:00:00Z",
    "last_message_at": "2025-01-10T08:00:00Z",
    "resolved_at": None,
}
MESSAGE_EXAMPLE = {
    "id": 77120,
    "kind": "inbound",
    "channel": "web_form",
    "from_name": "Maria Keller",
    "subject": "Wrong size delivered",
    "text": "I ordered the jacket in M and got an L.",
    "created_at": "2025-01-10T08:00:00Z",
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such inquiry.")}


def inquiries_for(request: Request) -> QuerySet[Inquiry]:
    """Tokens with inquiries:read see every inquiry; employees those they may open."""
    if token_of(request) is not None:
        return Inquiry.objects.all()
    return visible_inquiries(request.user)


def inquiry_by_reference(request: Request, reference: str) -> Inquiry:
    match = REFERENCE.match(reference.strip())
    pk = int(match.group(1)) - REFERENCE_OFFSET if match else 0
    inquiry = (
        inquiries_for(request).select_related("store", "order", "merged_into").filter(pk=pk).first()
        if pk > 0
        else None
    )
    if inquiry is None:
        raise NotFound("No inquiry with this reference.")
    return inquiry


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).select_related("merged_into").first()
    if customer is None:
        raise ValidationError({"customer": ["No customer with this id."]})
    return customer.merged_into or customer


class InquiryCreateView(GenericAPIView):
    write_scope = Scope.INQUIRIES_WRITE
    pagination_class = None
    serializer_class = InquiryCreateSerializer

    @extend_schema(
        operation_id="inquiries_create",
        summary="Open an inquiry",
        description="From the web form, a logged phone call (phone), the customer portal, a "
        "store (with the store's code), or a chat transcript: there is no chat channel in the "
        "CRM, so channel chat is stored as a web_form inquiry with the transcript as its text. "
        "Give her customer id or her e-mail/phone (identity resolution finds or creates her). "
        "An order number must be one of her orders. A token must have the channel (web_form "
        "for chat) and, for channel store, the store. Raw e-mail goes to /inbound/email/.",
        request=InquiryCreateSerializer,
        responses={201: InquirySummarySerializer, **ERRORS_WRITE},
        examples=[
            OpenApiExample(
                "Web form",
                value={
                    "channel": "web_form",
                    "email": "maria.keller@example.com",
                    "first_name": "Maria",
                    "last_name": "Keller",
                    "subject": "Wrong size delivered",
                    "text": "I ordered the jacket in M and got an L.",
                    "order_number": "W100231",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Chat transcript",
                value={
                    "channel": "chat",
                    "customer": 4211,
                    "subject": "Chat: delivery date",
                    "text": "Maria: When will my order arrive?\nBot: Let me find a colleague.",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Opened", value=INQUIRY_EXAMPLE, response_only=True, status_codes=["201"]
            ),
            OpenApiExample(
                "Another customer's order",
                value={
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "Some fields are not valid.",
                        "fields": {"order_number": ["She has no order with this number."]},
                    }
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = InquiryCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = stored_channel(data["channel"])
        store = data.get("store")
        check_write(request, channel=channel, stores=[store])
        actor = actor_of(request)
        email, phone = data.get("email", "").strip(), data.get("phone", "").strip()
        names = (data.get("first_name", ""), data.get("last_name", ""))
        identity = (
            Identity(email=email, phone=phone, first_name=names[0], last_name=names[1])
            if email or phone
            else None
        )
        with transaction.atomic():
            if data.get("customer") is not None:
                customer = _customer(data["customer"])
            else:
                customer = customer_resolve(
                    identity=cast(Identity, identity), source=channel, store=store, actor=actor
                ).customer
            order = None
            if data.get("order_number", "").strip():
                order = Order.objects.filter(
                    number__iexact=data["order_number"].strip(), customer=customer
                ).first()
                if order is None:
                    raise ValidationError({"order_number": ["She has no order with this number."]})
            inquiry = inquiry_open(
                channel=channel,
                message=IncomingMessage(
                    text=data["text"],
                    subject=data.get("subject", ""),
                    from_address=email,
                    from_name=" ".join(name for name in names if name) or customer.full_name,
                ),
                identity=identity,
                customer=customer,
                subject=data.get("subject", ""),
                actor=actor,
                store=store,
                order=order,
                acknowledge=channel in ACKNOWLEDGED_CHANNELS,
            )
        return Response(InquirySummarySerializer(inquiry).data, status=status.HTTP_201_CREATED)


class InquiryDetailView(GenericAPIView):
    read_scope = Scope.INQUIRIES_READ
    pagination_class = None
    serializer_class = InquiryDetailSerializer

    @extend_schema(
        operation_id="inquiries_retrieve",
        summary="An inquiry with its conversation",
        description="By its reference (R-10234). Tokens get the public conversation (her "
        "messages and our replies); signed-in staff also get internal notes (kind note). Store "
        "staff see the inquiries of their stores.",
        responses={200: InquiryDetailSerializer, **ERRORS_READ, **NOT_FOUND},
        examples=[
            OpenApiExample(
                "An inquiry",
                value={
                    **INQUIRY_EXAMPLE,
                    "merged_into": None,
                    "messages": [
                        MESSAGE_EXAMPLE,
                        {
                            **MESSAGE_EXAMPLE,
                            "id": 77141,
                            "kind": "outbound",
                            "from_name": "Customer Service",
                            "text": "Sorry about that: a return label is on its way.",
                            "created_at": "2025-01-10T09:30:00Z",
                        },
                    ],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request, reference: str) -> Response:
        inquiry = inquiry_by_reference(request, reference)
        messages = inquiry.messages.order_by("created_at", "id")
        if token_of(request) is not None:
            messages = messages.filter(kind__in=PUBLIC_KINDS)
        return Response(InquiryDetailSerializer(inquiry, context={"messages": list(messages)}).data)


class InquiryMessageCreateView(GenericAPIView):
    write_scope = Scope.INQUIRIES_WRITE
    pagination_class = None
    serializer_class = InquiryMessageCreateSerializer

    @extend_schema(
        operation_id="inquiries_messages_create",
        summary="Add the customer's message to an inquiry",
        description="She wrote again. The message joins the inquiry (or the one it was merged "
        "into), re-opening it if resolved recently; on an inquiry resolved longer ago it opens "
        "a follow-up inquiry. The answer says where it landed.",
        request=InquiryMessageCreateSerializer,
        responses={201: MessageLandedSerializer, **ERRORS_WRITE, **NOT_FOUND},
        examples=[
            OpenApiExample(
                "Her reply",
                value={"channel": "portal", "text": "The label has not arrived yet."},
                request_only=True,
            ),
            OpenApiExample(
                "Landed",
                value={
                    "inquiry": {**INQUIRY_EXAMPLE, "status": "open"},
                    "message": {
                        **MESSAGE_EXAMPLE,
                        "id": 77160,
                        "channel": "portal",
                        "subject": "",
                        "text": "The label has not arrived yet.",
                    },
                    "follow_up": False,
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, reference: str) -> Response:
        inquiry = inquiry_by_reference(request, reference)
        serializer = InquiryMessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = stored_channel(data["channel"])
        check_write(
            request, channel=channel, stores=[inquiry.store] if channel == Channel.STORE else []
        )
        landed, stored = inquiry_receive(
            inquiry=inquiry,
            message=IncomingMessage(
                text=data["text"],
                subject=data.get("subject", ""),
                from_name=data.get("from_name", ""),
            ),
            channel=channel,
            actor=actor_of(request),
        )
        landed = Inquiry.objects.select_related("store", "order").get(pk=landed.pk)
        body: dict[str, Any] = {
            "inquiry": InquirySummarySerializer(landed).data,
            "message": MessageSerializer(stored).data,
            "follow_up": landed.pk not in (inquiry.pk, inquiry.merged_into_id),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CustomerInquiriesView(ListAPIView):
    read_scope = Scope.INQUIRIES_READ
    serializer_class = InquirySummarySerializer

    def get_queryset(self) -> QuerySet[Inquiry]:
        if getattr(self, "swagger_fake_view", False):
            return Inquiry.objects.none()
        customer_id = live_customer_id(self.kwargs["pk"])
        return (
            inquiries_for(self.request)
            .filter(customer_id=customer_id)
            .select_related("store", "order")
        )

    @extend_schema(
        operation_id="customers_inquiries_list",
        parameters=[CUSTOMER_ID],
        summary="A customer's inquiries",
        description="Newest first, a cursor page at a time (follow `next`). A merged record's id "
        "lists the survivor's inquiries. Store staff see those of their stores.",
        responses={200: InquirySummarySerializer(many=True), **ERRORS_ONE},
        examples=[
            OpenApiExample(
                "Her inquiries", value=INQUIRY_EXAMPLE, response_only=True, status_codes=["200"]
            )
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
