"""Orders, pickups and returns over the REST API. Views parse, check scope and store, call the
services of orders.services, and render; every POST honours Idempotency-Key."""

import secrets
from typing import Any, cast

import django_filters
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.bulk import ITEM_ERRORS, BulkRequestSerializer, bulk_error, bulk_result
from crm.api.idempotency import idempotent
from crm.api.permissions import actor_of, check_write, source_of, token_of
from crm.api.schema import ErrorSerializer
from crm.models import Channel, Role, Scope, User
from crm.permissions import stores_worked_at
from orders.api.serializers import (
    OrderCreateSerializer,
    OrderSerializer,
    OrderStatusSerializer,
    PickupCollectSerializer,
    PickupSerializer,
    PickupStatusSerializer,
    ReturnCreateSerializer,
    ReturnSerializer,
    order_record_arguments,
)
from orders.models import (
    Order,
    OrderStatus,
    Pickup,
    PickupStatus,
    Product,
    Return,
    ReturnStatus,
)
from orders.services import order_record, pickup_collect, pickup_set_status
from orders.services.orders import OrderInput, orders_record_batch
from orders.services.pickups import MAX_WRONG_CODES
from orders.services.returns import return_create
from orders.services.status import order_set_status

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input: messages by field."),
    401: OpenApiResponse(ErrorSerializer, description="No token, or an unknown or revoked one."),
    403: OpenApiResponse(
        ErrorSerializer,
        description="The token lacks the scope, or may not write for this channel or store.",
    ),
}
READ_ERRORS = {401: ERRORS[401], 403: ERRORS[403]}
LIST_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A filter's value is not valid."),
    **READ_ERRORS,
    404: OpenApiResponse(ErrorSerializer, description="Invalid cursor."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such record (or not yours).")}
KEY_REUSED = {
    422: OpenApiResponse(
        ErrorSerializer, description="This Idempotency-Key was used for a different request."
    )
}

ORDER_REQUEST = {
    "external_source": "webshop",
    "external_id": "WS-100231",
    "customer": {"email": "ana.lopez@example.com", "first_name": "Ana", "last_name": "Lopez"},
    "channel": "web",
    "fulfilment": "pickup",
    "pickup_store": "st01",
    "lines": [{"sku": "TEE-BLU-M", "quantity": 2}, {"sku": "MUG-01", "quantity": 1}],
}
ORDER_RESPONSE = {
    "number": "W100231",
    "customer": 42,
    "channel": "web",
    "store": None,
    "status": "placed",
    "fulfilment": "pickup",
    "pickup_store": "st01",
    "placed_at": "2026-05-03T14:02:11Z",
    "currency": "USD",
    "subtotal": "47.00",
    "shipping": "0.00",
    "tax": "0.00",
    "total": "47.00",
    "external_source": "webshop",
    "external_id": "WS-100231",
    "lines": [
        {
            "id": 311,
            "sku": "TEE-BLU-M",
            "name": "T-shirt, blue, M",
            "quantity": 2,
            "unit_price": "19.00",
            "line_total": "38.00",
        },
        {
            "id": 312,
            "sku": "MUG-01",
            "name": "Mug",
            "quantity": 1,
            "unit_price": "9.00",
            "line_total": "9.00",
        },
    ],
    "pickup": {
        "id": 77,
        "store": "st01",
        "status": "placed",
        "ready_at": None,
        "hold_until": None,
        "collected_at": None,
    },
    "created_at": "2026-05-03T14:02:11Z",
}
STORE_SALE_REQUEST = {
    "external_source": "pos-st01",
    "external_id": "T-2026-000981",
    "customer": {"loyalty_number": "LC-0042-7781"},
    "channel": "store",
    "store": "st01",
    "lines": [{"sku": "MUG-01", "quantity": 1, "unit_price": "8.10"}],
}
VALIDATION_ERROR = {
    "error": {
        "status": 400,
        "code": "invalid",
        "message": "Some fields are not valid.",
        "fields": {
            "lines.0.quantity": ["Ensure this value is greater than or equal to 1."],
            "store": ["No store has the code “st99”."],
            "colour": ["Unknown field."],
        },
    }
}
FORBIDDEN_STORE = {
    "error": {
        "status": 403,
        "code": "permission_denied",
        "message": "This token may not write for store st02.",
        "fields": {},
    }
}
PICKUP_RESPONSE = {
    "id": 77,
    "order": "W100231",
    "customer": 42,
    "store": "st01",
    "status": "ready",
    "ready_at": "2026-05-04T09:30:00Z",
    "hold_until": "2026-05-11T09:30:00Z",
    "collected_at": None,
    "created_at": "2026-05-03T14:02:11Z",
    "updated_at": "2026-05-04T09:30:00Z",
}
RETURN_REQUEST = {
    "order": "W100231",
    "store": "st01",
    "refund_method": "original_payment",
    "lines": [{"line": 311, "quantity": 1, "reason": "does_not_fit", "condition": "resellable"}],
}
RETURN_RESPONSE = {
    "id": 12,
    "number": "R100012",
    "order": "W100231",
    "customer": 42,
    "channel": "store",
    "store": "st01",
    "status": "completed",
    "refund_method": "original_payment",
    "refund_items": "19.00",
    "refund_tax": "0.00",
    "refund_shipping": "0.00",
    "refund_total": "19.00",
    "lines": [
        {
            "line": 311,
            "sku": "TEE-BLU-M",
            "quantity": 1,
            "reason": "does_not_fit",
            "condition": "resellable",
            "refund_amount": "19.00",
        }
    ],
    "created_at": "2026-05-06T11:00:00Z",
    "completed_at": "2026-05-06T11:00:00Z",
}


def _example(name: str, value: Any, *, request: bool = False, code: str = "") -> OpenApiExample:
    return OpenApiExample(
        name,
        value=value,
        request_only=request,
        response_only=not request,
        status_codes=[code] if code else None,
    )


def visible_store_ids(request: Request) -> set[int] | None:
    """The stores whose pickups and returns the caller may see, or None for every store: a token
    limited to some stores sees theirs, store staff the stores they work at."""
    token = token_of(request)
    if token is not None:
        return None if token.all_stores else {store.pk for store in token.stores.all()}
    user = request.user
    if getattr(user, "role", None) in (Role.ASSOCIATE, Role.MANAGER):
        return set(stores_worked_at(user).values_list("pk", flat=True))
    return None


def orders_for_api() -> QuerySet[Order]:
    return Order.objects.select_related("store", "pickup_store", "pickup", "pickup__store")


def order_for_api(number: str) -> Order:
    return get_object_or_404(orders_for_api().prefetch_related("lines"), number=number)


def order_create(
    request: Request, data: dict[str, Any], *, catalogue: dict[str, Product]
) -> tuple[Order, bool]:
    """Record one validated order for this caller, with the products read for its validation;
    True when this request stored it, False when the same external id was already stored (the
    stored order is returned)."""
    check_write(
        request, channel=data["channel"], stores=[data.get("store"), data.get("pickup_store")]
    )
    started = timezone.now()
    order = order_record(
        **order_record_arguments(data), actor=actor_of(request), catalogue=catalogue
    )
    return order, order.created_at >= started


def _catalogue(items: list[Any]) -> dict[str, Product]:
    """The products named by any line of the (not yet validated) items, in one query: the
    validation and the writing of the orders both take them from here. A SKU with a NUL
    character names no product (PostgreSQL refuses it in a query; validation rejects it)."""
    skus = {
        line["sku"].strip()
        for item in items
        if isinstance(item, dict) and isinstance(item.get("lines"), list)
        for line in item["lines"]
        if isinstance(line, dict) and isinstance(line.get("sku"), str) and "\x00" not in line["sku"]
    }
    return {product.sku: product for product in Product.objects.filter(sku__in=skus)}


def _bulk_stored(items: list[Any]) -> dict[tuple[str, str], Order]:
    """The orders already stored under the external ids of the items, in one query (ids with a
    NUL character left out, as in _catalogue)."""
    keys = {
        (item["external_source"].strip(), item["external_id"].strip())
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("external_source"), str)
        and isinstance(item.get("external_id"), str)
        and item["external_id"].strip()
        and "\x00" not in item["external_source"] + item["external_id"]
    }
    if not keys:
        return {}
    # exclude(external_id=""): the condition of the unique index that answers this.
    candidates = Order.objects.exclude(external_id="").filter(
        external_source__in={source for source, _ in keys},
        external_id__in={external_id for _, external_id in keys},
    )
    return {
        key: order
        for order in candidates
        if (key := (order.external_source, order.external_id)) in keys
    }


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", help_text="Customer id.")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    store = django_filters.CharFilter(field_name="store__code", help_text="Store code.")
    external_source = django_filters.CharFilter()
    external_id = django_filters.CharFilter()

    class Meta:
        model = Order
        fields = ["customer", "status", "channel", "store", "external_source", "external_id"]


class OrderListCreate(generics.GenericAPIView):
    """Orders from every channel: list (newest first, cursor pages) and record one."""

    read_scope = Scope.ORDERS_READ
    write_scope = Scope.ORDERS_WRITE
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        return orders_for_api().prefetch_related("lines")

    @extend_schema(
        operation_id="orders_list",
        summary="List orders",
        responses={200: OrderSerializer(many=True), **LIST_ERRORS},
        examples=[_example("An order", ORDER_RESPONSE)],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_create",
        summary="Record an order",
        description="An order from any channel, on the customer that identity resolution finds. "
        "A pick-up order reserves its stock at the pickup store; a till sale (channel store) "
        "takes its goods out of the store's stock. An order whose external_id was already "
        "stored for its external_source is not stored again: the answer is 200 with the stored "
        "order (201 when this request stored it). A token writes only in its channels and for "
        "its stores.",
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description="Already stored (same external id)."),
            **ERRORS,
            **KEY_REUSED,
        },
        examples=[
            _example("Web order picked up in store", ORDER_REQUEST, request=True),
            _example("Till sale", STORE_SALE_REQUEST, request=True),
            _example("Recorded", ORDER_RESPONSE, code="201"),
            _example("Invalid", VALIDATION_ERROR, code="400"),
            _example("Another store's sale", FORBIDDEN_STORE, code="403"),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        catalogue = _catalogue([request.data])
        serializer = OrderCreateSerializer(data=request.data, context={"catalogue": catalogue})
        serializer.is_valid(raise_exception=True)
        order, created = order_create(request, serializer.validated_data, catalogue=catalogue)
        # An order this request recorded is answered as it is in memory; one stored before is
        # read with everything the answer shows.
        return Response(
            OrderSerializer(order if created else order_for_api(order.number)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OrderDetail(generics.GenericAPIView):
    read_scope = Scope.ORDERS_READ
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_retrieve",
        summary="Read an order",
        responses={200: OrderSerializer, **READ_ERRORS, **NOT_FOUND},
        examples=[_example("An order", ORDER_RESPONSE)],
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(OrderSerializer(order_for_api(number)).data)


class OrderStatusUpdate(generics.GenericAPIView):
    write_scope = Scope.ORDERS_WRITE
    serializer_class = OrderStatusSerializer

    @extend_schema(
        operation_id="orders_status",
        summary="Report an order paid, shipped, delivered or cancelled",
        description="Legal moves: placed → paid or cancelled; paid → shipped or cancelled; "
        "shipped → delivered. Anything else is a 400 saying why. Shipping takes the goods out of "
        "the warehouse's stock; cancelling a paid order records its refund. A pick-up order is "
        "collected or cancelled through its pickup. Each move is on the customer's timeline and "
        "in the audit log.",
        request=OrderStatusSerializer,
        responses={200: OrderSerializer, **ERRORS, **NOT_FOUND, **KEY_REUSED},
        examples=[
            _example("Shipped", {"status": "shipped", "note": "UPS 1Z999"}, request=True),
            _example("Moved", ORDER_RESPONSE | {"status": "shipped"}, code="200"),
            _example(
                "Illegal move",
                {
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "Some fields are not valid.",
                        "fields": {"status": ["An order that is placed cannot become shipped."]},
                    }
                },
                code="400",
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        order = get_object_or_404(
            Order.objects.select_related("store", "pickup_store"), number=number
        )
        serializer = OrderStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_write(request, channel=order.channel, stores=[order.store, order.pickup_store])
        order_set_status(
            order=order,
            to=serializer.validated_data["status"],
            actor=actor_of(request),
            source=source_of(request),
            note=serializer.validated_data.get("note", ""),
        )
        return Response(OrderSerializer(order_for_api(number)).data)


class OrderBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["number", "customer", "status", "total", "external_source", "external_id"]


class OrderBulkItemErrorSerializer(serializers.Serializer):
    # Declared here, not as attributes: "fields" is Serializer.fields.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "code": serializers.CharField(),
            "message": serializers.CharField(required=False),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()), required=False
            ),
        }


class BulkOrderResultSerializer(serializers.Serializer):
    # Declared here, not as attributes: "data" is Serializer.data.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "index": serializers.IntegerField(),
            "status": serializers.IntegerField(
                help_text="201 stored, 200 already stored (same external id), 400, 403."
            ),
            "data": OrderBriefSerializer(required=False),
            "error": OrderBulkItemErrorSerializer(required=False),
        }


class BulkOrderResponseSerializer(serializers.Serializer):
    results = BulkOrderResultSerializer(many=True)


class OrderBulk(generics.GenericAPIView):
    write_scope = Scope.ORDERS_WRITE
    serializer_class = BulkRequestSerializer

    @extend_schema(
        operation_id="orders_bulk",
        summary="Record up to 1,000 orders",
        description="Each item is an order as for POST /orders/, validated and stored on its own: "
        "the answer (207) has one result per item, in order, and valid items are stored even "
        "when others fail.",
        request=BulkRequestSerializer,
        responses={207: BulkOrderResponseSerializer, **ERRORS, **KEY_REUSED},
        examples=[
            _example("Two orders", {"items": [ORDER_REQUEST, STORE_SALE_REQUEST]}, request=True),
            _example(
                "One stored, one refused",
                {
                    "results": [
                        {
                            "index": 0,
                            "status": 201,
                            "data": {
                                "number": "W100231",
                                "customer": 42,
                                "status": "placed",
                                "total": "47.00",
                                "external_source": "webshop",
                                "external_id": "WS-100231",
                            },
                        },
                        {
                            "index": 1,
                            "status": 400,
                            "error": {
                                "code": "invalid",
                                "fields": {"lines.0.sku": ["No product has the SKU “X”."]},
                            },
                        },
                    ]
                },
                code="207",
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        envelope = BulkRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)

        items = envelope.validated_data["items"]
        # Read once for the whole request: the products of every line, and the orders already
        # stored under the items' external ids.
        catalogue, stored = _catalogue(items), _bulk_stored(items)
        serializer = OrderCreateSerializer(context={"catalogue": catalogue})
        results: dict[int, dict[str, Any]] = {}
        answered: dict[int, tuple[Order, int]] = {}
        pending: dict[int, OrderInput] = {}
        for index, item in enumerate(items):
            try:
                data = serializer.run_validation(item)
                check_write(
                    request,
                    channel=data["channel"],
                    stores=[data.get("store"), data.get("pickup_store")],
                )
            except ITEM_ERRORS as error:
                results[index] = bulk_error(index, error)
                continue
            order = OrderInput(**order_record_arguments(data))
            found = stored.get((order.external_source, order.external_id))
            if order.external_id and found is not None:
                answered[index] = found, status.HTTP_200_OK
            else:
                pending[index] = order

        actor = actor_of(request)
        batch = _record_batch(list(pending.values()), catalogue=catalogue, actor=actor)
        for index, recorded in zip(pending, batch, strict=True):
            if recorded is not None:
                answered[index] = recorded, status.HTTP_201_CREATED
        # The rest one by one, in the order they were sent; an order sent twice in the request
        # is caught by the external id's unique constraint.
        for index, order in pending.items():
            if index in answered:
                continue
            started = timezone.now()
            try:
                recorded = order_record(
                    **vars(order), actor=actor, catalogue=catalogue, known_new=True
                )
            except ITEM_ERRORS as error:
                results[index] = bulk_error(index, error)
            else:
                created = recorded.created_at >= started
                answered[index] = (
                    recorded,
                    status.HTTP_201_CREATED if created else status.HTTP_200_OK,
                )

        briefs = OrderBriefSerializer([order for order, _ in answered.values()], many=True).data
        for (index, (_, code)), brief in zip(answered.items(), briefs, strict=True):
            results[index] = bulk_result(index, dict(brief) | {"_status": code})
        return Response(
            {"results": [results[index] for index in range(len(items))]},
            status=status.HTTP_207_MULTI_STATUS,
        )


def _record_batch(
    orders: list[OrderInput], *, catalogue: dict[str, Product], actor: User | None
) -> list[Order | None]:
    """orders_record_batch in a savepoint of its own: should another request store one of the
    external ids or numbers meanwhile, nothing of the batch stays, and each order is recorded
    on its own."""
    try:
        with transaction.atomic():
            return orders_record_batch(orders=orders, catalogue=catalogue, actor=actor)
    except IntegrityError:
        return [None] * len(orders)


class PickupFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code", help_text="Store code.")
    status = django_filters.ChoiceFilter(choices=PickupStatus.choices)

    class Meta:
        model = Pickup
        fields = ["store", "status"]


def pickups_for_api(request: Request) -> QuerySet[Pickup]:
    pickups = Pickup.objects.select_related("store", "order")
    store_ids = visible_store_ids(request)
    return pickups if store_ids is None else pickups.filter(store_id__in=store_ids)


class PickupList(generics.GenericAPIView):
    read_scope = Scope.ORDERS_READ
    serializer_class = PickupSerializer
    filterset_class = PickupFilter

    def get_queryset(self) -> QuerySet[Pickup]:
        return pickups_for_api(self.request)

    @extend_schema(
        operation_id="pickups_list",
        summary="List pickups",
        description="Newest first; a token of some stores (or store staff) sees their stores'.",
        responses={200: PickupSerializer(many=True), **LIST_ERRORS},
        examples=[_example("A pickup", PICKUP_RESPONSE)],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PickupSerializer(page, many=True).data)


class PickupDetail(generics.GenericAPIView):
    read_scope = Scope.ORDERS_READ
    serializer_class = PickupSerializer

    @extend_schema(
        operation_id="pickups_retrieve",
        summary="Read a pickup",
        responses={200: PickupSerializer, **READ_ERRORS, **NOT_FOUND},
        examples=[_example("A pickup", PICKUP_RESPONSE)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(PickupSerializer(get_object_or_404(pickups_for_api(request), pk=pk)).data)


class PickupStatusUpdate(generics.GenericAPIView):
    write_scope = Scope.ORDERS_WRITE
    serializer_class = PickupStatusSerializer

    @extend_schema(
        operation_id="pickups_status",
        summary="Mark a pickup preparing or ready, or cancel it",
        description="placed → preparing → ready (the customer is e-mailed the pickup code); "
        "cancelled releases the stock and refunds the order. Other moves are a 400.",
        request=PickupStatusSerializer,
        responses={200: PickupSerializer, **ERRORS, **NOT_FOUND, **KEY_REUSED},
        examples=[
            _example("Ready", {"status": "ready"}, request=True),
            _example("Moved", PICKUP_RESPONSE, code="200"),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        pickup = get_object_or_404(pickups_for_api(request), pk=pk)
        serializer = PickupStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_write(request, channel=Channel.STORE, stores=[pickup.store])
        pickup_set_status(
            pickup=pickup,
            to=serializer.validated_data["status"],
            actor=actor_of(request),
            note=serializer.validated_data.get("note", ""),
        )
        return Response(PickupSerializer(get_object_or_404(pickups_for_api(request), pk=pk)).data)


def _code_refused(pickup: Pickup, code: str) -> bool:
    """Whether pickup_collect would refuse this code (wrong, or too many wrong already)."""
    given = "".join(code.split()).upper().replace("-", "")
    return (
        pickup.status == PickupStatus.READY
        and bool(given)
        and (
            pickup.wrong_code_attempts >= MAX_WRONG_CODES
            or not secrets.compare_digest(given.encode(), pickup.code.encode())
        )
    )


class PickupCollect(generics.GenericAPIView):
    write_scope = Scope.ORDERS_WRITE
    serializer_class = PickupCollectSerializer

    @extend_schema(
        operation_id="pickups_collect",
        summary="Hand a ready pickup over",
        description="With the customer's pickup code, or (no code) id_check_reason saying whose "
        "ID was checked. A wrong code is a 400 and is counted; after five wrong codes only an ID "
        "check will do. Collection sells the reserved stock and completes the order.",
        request=PickupCollectSerializer,
        responses={200: PickupSerializer, **ERRORS, **NOT_FOUND, **KEY_REUSED},
        examples=[
            _example("With the code", {"code": "K7M-Q2X"}, request=True),
            _example("Collected", PICKUP_RESPONSE | {"status": "collected"}, code="200"),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        pickup = get_object_or_404(pickups_for_api(request), pk=pk)
        serializer = PickupCollectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_write(request, channel=Channel.STORE, stores=[pickup.store])
        data = serializer.validated_data
        if not data.get("id_check_reason", "").strip() and _code_refused(pickup, data["code"]):
            # Outside the idempotent transaction, whose rollback of an error answer would
            # also undo the count of wrong codes.
            pickup_collect(pickup=pickup, actor=cast(User, actor_of(request)), code=data["code"])
        return self._collect(request, pk)

    @idempotent
    def _collect(self, request: Request, pk: int) -> Response:
        serializer = PickupCollectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pickup = get_object_or_404(pickups_for_api(request), pk=pk)
        pickup_collect(
            pickup=pickup,
            actor=cast(User, actor_of(request)),
            code=serializer.validated_data.get("code", ""),
            id_check_reason=serializer.validated_data.get("id_check_reason", ""),
        )
        return Response(PickupSerializer(get_object_or_404(pickups_for_api(request), pk=pk)).data)


class ReturnFilter(django_filters.FilterSet):
    store = django_filters.CharFilter(field_name="store__code", help_text="Store code.")
    status = django_filters.ChoiceFilter(choices=ReturnStatus.choices)
    order = django_filters.CharFilter(field_name="order__number", help_text="Order number.")
    customer = django_filters.NumberFilter(field_name="customer_id", help_text="Customer id.")

    class Meta:
        model = Return
        fields = ["store", "status", "order", "customer"]


def returns_for_api(request: Request) -> QuerySet[Return]:
    returns = Return.objects.select_related("order", "store").prefetch_related("lines__order_line")
    store_ids = visible_store_ids(request)
    return returns if store_ids is None else returns.filter(store_id__in=store_ids)


class ReturnListCreate(generics.GenericAPIView):
    read_scope = Scope.ORDERS_READ
    write_scope = Scope.ORDERS_WRITE
    serializer_class = ReturnSerializer
    filterset_class = ReturnFilter

    def get_queryset(self) -> QuerySet[Return]:
        return returns_for_api(self.request)

    @extend_schema(
        operation_id="returns_list",
        summary="List returns",
        description="Newest first; a token of some stores (or store staff) sees their stores'.",
        responses={200: ReturnSerializer(many=True), **LIST_ERRORS},
        examples=[_example("A return", RETURN_RESPONSE)],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ReturnSerializer(page, many=True).data)

    @extend_schema(
        operation_id="returns_create",
        summary="Take items of an order back at a store",
        description="Anything bought in any channel, at any store. No line comes back more often "
        "than it was bought; the refund is each item's price and its share of tax (and the "
        "shipping when the retailer was at fault); resellable items go back into the store's "
        "stock. A return past the store's window needs a store manager at the desk: tokens get "
        "a 400.",
        request=ReturnCreateSerializer,
        responses={201: ReturnSerializer, **ERRORS, **KEY_REUSED},
        examples=[
            _example("One item", RETURN_REQUEST, request=True),
            _example("Taken back", RETURN_RESPONSE, code="201"),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ReturnCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        store, order = data["store"], data["order"]
        check_write(request, channel=Channel.STORE, stores=[store])
        actor = actor_of(request)
        days = (timezone.now() - order.placed_at).days
        if actor is None and days > store.return_window_days:
            raise serializers.ValidationError(
                {
                    "order": [
                        f"Order {order.number} is outside {store.name}’s "
                        f"{store.return_window_days}-day return window: a store manager must "
                        "accept it at the desk."
                    ]
                }
            )
        with transaction.atomic():
            created = return_create(
                order=order,
                lines=data["order_lines"],
                store=store,
                actor=cast(User, actor),
                refund_method=data["refund_method"],
            )
        return Response(
            ReturnSerializer(returns_for_api(request).get(pk=created.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ReturnDetail(generics.GenericAPIView):
    read_scope = Scope.ORDERS_READ
    serializer_class = ReturnSerializer

    @extend_schema(
        operation_id="returns_retrieve",
        summary="Read a return",
        responses={200: ReturnSerializer, **READ_ERRORS, **NOT_FOUND},
        examples=[_example("A return", RETURN_RESPONSE)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReturnSerializer(get_object_or_404(returns_for_api(request), pk=pk)).data)
