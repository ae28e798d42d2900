"""Marketing touches and web activity: the mailer and the web shop tell us what a customer was
sent and what she did; each event lands on her timeline."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.bulk import bulk_apply
from crm.api.idempotency import idempotent
from crm.api.pagination import NewestFirst
from crm.api.permissions import actor_of, check_write
from crm.api.schema import ErrorSerializer
from crm.models import Channel, Scope
from customers.api.engagement_serializers import (
    BulkInputSerializer,
    BulkResponseSerializer,
    CartAbandonedInputSerializer,
    CartRecoveredInputSerializer,
    CartSerializer,
    TouchBulkInputSerializer,
    TouchEventInputSerializer,
    TouchInputSerializer,
    TouchSerializer,
    VisitInputSerializer,
    VisitSerializer,
    WebActivityItemSerializer,
    WishListInputSerializer,
    WishListSerializer,
)
from customers.engagement import (
    TOUCH_TIMELINE_CHANNEL,
    cart_abandoned,
    cart_recovered,
    engagement_customer,
    touch_event,
    touch_record,
    visit_record,
    wish_list,
    wishlist_add,
    wishlist_remove,
)
from customers.models import Customer, Touch, TouchChannel

MARKETING = {"read_scope": Scope.MARKETING_READ, "write_scope": Scope.MARKETING_WRITE}

ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    422: ErrorSerializer,
}

EXAMPLE_ERROR = OpenApiExample(
    "Invalid",
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "Some fields are not valid.",
            "fields": {"offer_type": ['"half_off" is not a valid choice.']},
        }
    },
    response_only=True,
    status_codes=["400"],
)
EXAMPLE_FORBIDDEN = OpenApiExample(
    "Missing scope",
    value={
        "error": {
            "status": 403,
            "code": "permission_denied",
            "message": "This needs the marketing:write scope.",
            "fields": {},
        }
    },
    response_only=True,
    status_codes=["403"],
)

TOUCH_EXAMPLE = {
    "id": 41,
    "customer": 7,
    "source": "mailer",
    "external_id": "spring-2026-000123",
    "campaign": "Spring sale",
    "promotion_code": "SPRING20",
    "offer_type": "percent_off",
    "offer_value": "20.00",
    "description": "20% off all outerwear",
    "channel": "email",
    "sent_at": "2026-03-01T09:00:00Z",
    "opened_at": "2026-03-01T12:14:00Z",
    "clicked_at": None,
    "redeemed_at": None,
    "redeemed_order": None,
    "created_at": "2026-03-01T09:00:02Z",
}
CART_EXAMPLE = {
    "id": 12,
    "customer": 7,
    "source": "webshop",
    "external_id": "c-5521",
    "items": [
        {"sku": "SKU-00012", "quantity": 2, "price": "49.90"},
        {"sku": "SKU-00040", "quantity": 1, "price": "84.20"},
    ],
    "value": "184.00",
    "abandoned_at": "2026-03-02T20:31:00Z",
    "abandoned_step": "payment",
    "recovered_at": None,
    "recovered_order": None,
}


def _customer(data: dict[str, Any], channel: str, request: Request) -> Customer:
    return engagement_customer(
        customer_id=data.get("customer"),
        identity=data.get("identity"),
        channel=channel,
        actor=actor_of(request),
    )


def _touch_channel(channel: str) -> str:
    return TOUCH_TIMELINE_CHANNEL[TouchChannel(channel)]


def _write_touch(request: Request, data: dict[str, Any]) -> tuple[Touch, bool]:
    channel = _touch_channel(data["channel"])
    check_write(request, channel=channel)
    with transaction.atomic():
        recorded = touch_record(
            customer=_customer(data, channel, request),
            source=data["source"],
            external_id=data["external_id"],
            offer_type=data["offer_type"],
            offer_value=data.get("offer_value"),
            channel=data["channel"],
            sent_at=data.get("sent_at"),
            campaign=data.get("campaign", ""),
            promotion_code=data.get("promotion_code", ""),
            description=data.get("description", ""),
            actor=actor_of(request),
        )
    return recorded.obj, recorded.created


class TouchFilter(filters.FilterSet):
    customer = filters.NumberFilter(
        method="filter_customer", label="Customer id (a merged record's id finds the survivor's)"
    )

    class Meta:
        model = Touch
        fields = ("customer", "channel", "offer_type", "campaign", "source")

    def filter_customer(self, queryset: QuerySet[Touch], name: str, value: Any) -> QuerySet[Touch]:
        survivor = Customer.objects.filter(pk=int(value)).values(
            target=Coalesce("merged_into_id", "id")
        )[:1]
        return queryset.filter(customer_id=Subquery(survivor))


class TouchPages(NewestFirst):
    ordering = ("-sent_at", "-id")


class TouchListView(generics.ListAPIView):
    """Offers sent to customers, newest first; filter by customer."""

    read_scope = Scope.MARKETING_READ
    write_scope = Scope.MARKETING_WRITE
    serializer_class = TouchSerializer
    filterset_class = TouchFilter
    pagination_class = TouchPages
    queryset = Touch.objects.select_related("redeemed_order")

    @extend_schema(
        summary="List marketing touches",
        parameters=[OpenApiParameter("customer", int, description="Only this customer's.")],
        responses={
            200: TouchSerializer(many=True),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "A page",
                value={"next": None, "previous": None, "results": [TOUCH_EXAMPLE]},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Record an offer sent to a customer",
        description="Name the customer by `customer` (id) or `identity` (e-mail, phone, loyalty "
        "number, external ids; an unknown person becomes a new customer). The same "
        "`source` + `external_id` sent again is the same touch: 200 with it, unchanged.",
        request=TouchInputSerializer,
        responses={201: TouchSerializer, 200: TouchSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Offer by e-mail",
                value={
                    "identity": {"email": "ana@example.com"},
                    "source": "mailer",
                    "external_id": "spring-2026-000123",
                    "campaign": "Spring sale",
                    "promotion_code": "SPRING20",
                    "offer_type": "percent_off",
                    "offer_value": "20",
                    "channel": "email",
                    "sent_at": "2026-03-01T09:00:00Z",
                },
                request_only=True,
            ),
            OpenApiExample("Recorded", value=TOUCH_EXAMPLE, response_only=True),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TouchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        touch, created = _write_touch(request, serializer.validated_data)
        return Response(
            TouchSerializer(touch).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class TouchDetailView(generics.RetrieveAPIView):
    read_scope = Scope.MARKETING_READ
    serializer_class = TouchSerializer
    queryset = Touch.objects.select_related("redeemed_order")

    @extend_schema(
        summary="Read a marketing touch",
        responses={
            200: TouchSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        examples=[OpenApiExample("A touch", value=TOUCH_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class TouchEventView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="The customer opened, clicked or redeemed an offer",
        description="Each event is kept once, at its first time: sending it again changes "
        "nothing (200 either way). A redemption may name the order (its number); it must be "
        "the same customer's.",
        request=TouchEventInputSerializer,
        responses={200: TouchSerializer, **ERRORS, 404: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Redeemed",
                value={"event": "redeemed", "at": "2026-03-03T17:40:00Z", "order": "W100231"},
                request_only=True,
            ),
            OpenApiExample(
                "After the redemption",
                value={
                    **TOUCH_EXAMPLE,
                    "redeemed_at": "2026-03-03T17:40:00Z",
                    "redeemed_order": "W100231",
                },
                response_only=True,
            ),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        touch = get_object_or_404(Touch, pk=pk)
        serializer = TouchEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_write(request, channel=_touch_channel(touch.channel))
        data = serializer.validated_data
        recorded = touch_event(
            touch=touch,
            event=data["event"],
            at=data.get("at"),
            order_number=data.get("order", ""),
            actor=actor_of(request),
        )
        return Response(TouchSerializer(recorded.obj).data)


class TouchBulkView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="Record up to 1,000 touches",
        description="Each item as in POST /touches/, validated and stored on its own: valid "
        "items are stored even when others fail. 207 with one result per item.",
        request=TouchBulkInputSerializer,
        responses={207: BulkResponseSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Two touches, one bad",
                value={
                    "results": [
                        {"index": 0, "status": 201, "data": TOUCH_EXAMPLE},
                        {
                            "index": 1,
                            "status": 400,
                            "error": {
                                "code": "invalid",
                                "fields": {"channel": ['"fax" is not a valid choice.']},
                            },
                        },
                    ]
                },
                response_only=True,
                status_codes=["207"],
            ),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = BulkInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def write(data: dict[str, Any]) -> dict[str, Any]:
            touch, created = _write_touch(request, data)
            return {**TouchSerializer(touch).data, "_status": 201 if created else 200}

        results = bulk_apply(body.validated_data["items"], TouchInputSerializer, write, {})
        return Response({"results": results}, status=status.HTTP_207_MULTI_STATUS)


# Web activity


def _write_visit(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    check_write(request, channel=Channel.WEB)
    with transaction.atomic():
        visit = visit_record(
            customer=_customer(data, Channel.WEB, request),
            source=data["source"],
            occurred_at=data.get("occurred_at"),
            referrer=data.get("referrer", ""),
            campaign=data.get("campaign", ""),
            landing_page=data.get("landing_page", ""),
            actor=actor_of(request),
        )
    return {**VisitSerializer(visit).data, "_status": 201}


def _write_wishlist(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    check_write(request, channel=Channel.WEB)
    with transaction.atomic():
        customer = _customer(data, Channel.WEB, request)
        change = wishlist_add if data["action"] == "add" else wishlist_remove
        recorded = change(
            customer=customer, sku=data["sku"], at=data.get("at"), actor=actor_of(request)
        )
    body = WishListSerializer(
        {"customer": customer.pk, "changed": recorded.created, "items": wish_list(customer)}
    ).data
    added = recorded.created and data["action"] == "add"
    return {**body, "_status": 201 if added else 200}


def _write_cart_abandoned(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    check_write(request, channel=Channel.WEB)
    with transaction.atomic():
        recorded = cart_abandoned(
            customer=_customer(data, Channel.WEB, request),
            source=data["source"],
            external_id=data["external_id"],
            items=data["items"],
            step=data["step"],
            abandoned_at=data.get("abandoned_at"),
            value=data.get("value"),
            actor=actor_of(request),
        )
    return {**CartSerializer(recorded.obj).data, "_status": 201 if recorded.created else 200}


def _write_cart_recovered(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    check_write(request, channel=Channel.WEB)
    recorded = cart_recovered(
        source=data["source"],
        external_id=data["external_id"],
        order_number=data.get("order", ""),
        at=data.get("at"),
        actor=actor_of(request),
    )
    return {**CartSerializer(recorded.obj).data, "_status": 200}


def _answer(body: dict[str, Any]) -> Response:
    code = body.pop("_status")
    return Response(body, status=code)


class VisitView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="Record a visit of the web shop",
        request=VisitInputSerializer,
        responses={201: VisitSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "From a promotion",
                value={
                    "identity": {"external_ids": {"webshop": "88123"}},
                    "source": "promotion",
                    "campaign": "Spring sale",
                    "referrer": "https://mail.example.com/",
                    "landing_page": "/outerwear/",
                    "occurred_at": "2026-03-01T12:15:00Z",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value={
                    "id": 3,
                    "customer": 7,
                    "occurred_at": "2026-03-01T12:15:00Z",
                    "source": "promotion",
                    "referrer": "https://mail.example.com/",
                    "campaign": "Spring sale",
                    "landing_page": "/outerwear/",
                },
                response_only=True,
            ),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = VisitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _answer(_write_visit(request, serializer.validated_data))


class WishListView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="Add a product to a customer's wish list, or remove it",
        description="Answers with the wish list as it is now: 201 when a product was added, "
        "200 otherwise (removed, or nothing to change). An unknown SKU is a 400.",
        request=WishListInputSerializer,
        responses={201: WishListSerializer, 200: WishListSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Add",
                value={"customer": 7, "action": "add", "sku": "SKU-00012"},
                request_only=True,
            ),
            OpenApiExample(
                "The list now",
                value={
                    "customer": 7,
                    "changed": True,
                    "items": [
                        {
                            "sku": "SKU-00012",
                            "name": "Wool coat",
                            "added_at": "2026-03-01T12:20:00Z",
                        }
                    ],
                },
                response_only=True,
            ),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = WishListInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _answer(_write_wishlist(request, serializer.validated_data))


class CartAbandonedView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="Record a cart abandoned at a checkout step",
        description="The same cart (`source` + `external_id`) reported again with a later time "
        "is updated (201); with the same time it is unchanged (200). Unknown SKUs are refused.",
        request=CartAbandonedInputSerializer,
        responses={201: CartSerializer, 200: CartSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Left at payment",
                value={
                    "customer": 7,
                    "source": "webshop",
                    "external_id": "c-5521",
                    "items": [
                        {"sku": "SKU-00012", "quantity": 2, "price": "49.90"},
                        {"sku": "SKU-00040", "quantity": 1, "price": "84.20"},
                    ],
                    "step": "payment",
                    "abandoned_at": "2026-03-02T20:31:00Z",
                },
                request_only=True,
            ),
            OpenApiExample("Recorded", value=CART_EXAMPLE, response_only=True),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CartAbandonedInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _answer(_write_cart_abandoned(request, serializer.validated_data))


class CartRecoveredView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="An abandoned cart was bought after all",
        description="Recovered once: reporting it again changes nothing. The order, if named, "
        "must be the cart's customer's.",
        request=CartRecoveredInputSerializer,
        responses={200: CartSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Became an order",
                value={"source": "webshop", "order": "W100231", "at": "2026-03-03T10:02:00Z"},
                request_only=True,
            ),
            OpenApiExample(
                "Recovered",
                value={
                    **CART_EXAMPLE,
                    "recovered_at": "2026-03-03T10:02:00Z",
                    "recovered_order": "W100231",
                },
                response_only=True,
            ),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request, external_id: str) -> Response:
        serializer = CartRecoveredInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {**serializer.validated_data, "external_id": external_id}
        return _answer(_write_cart_recovered(request, data))


WEB_ACTIVITY_WRITERS = {
    "visit": _write_visit,
    "wishlist": _write_wishlist,
    "cart_abandoned": _write_cart_abandoned,
    "cart_recovered": _write_cart_recovered,
}


class WebActivityBulkView(APIView):
    write_scope = Scope.MARKETING_WRITE

    @extend_schema(
        summary="Record up to 1,000 web-activity events",
        description='Each item has a "type" (visit, wishlist, cart_abandoned, cart_recovered) '
        "and the fields of that type's endpoint (cart_recovered also its external_id). Each is "
        "validated and stored on its own; 207 with one result per item.",
        request=BulkInputSerializer,
        responses={207: BulkResponseSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A visit and a wish-list change",
                value={
                    "items": [
                        {"type": "visit", "customer": 7, "source": "search"},
                        {"type": "wishlist", "customer": 7, "action": "add", "sku": "SKU-00012"},
                    ]
                },
                request_only=True,
            ),
            OpenApiExample(
                "One stored, one refused",
                value={
                    "results": [
                        {"index": 0, "status": 201, "data": {"id": 3, "customer": 7}},
                        {
                            "index": 1,
                            "status": 400,
                            "error": {
                                "code": "invalid",
                                "fields": {"sku": ["Unknown SKU SKU-99999."]},
                            },
                        },
                    ]
                },
                response_only=True,
                status_codes=["207"],
            ),
            EXAMPLE_ERROR,
            EXAMPLE_FORBIDDEN,
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = BulkInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def write(data: dict[str, Any]) -> dict[str, Any]:
            return WEB_ACTIVITY_WRITERS[data["type"]](request, data)

        results = bulk_apply(body.validated_data["items"], WebActivityItemSerializer, write, {})
        return Response({"results": results}, status=status.HTTP_207_MULTI_STATUS)
