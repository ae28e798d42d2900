"""The customers endpoints: create or update through identity resolution, read the record, search,
the timeline, merges and bulk upserts. Views validate, check the caller and call the services."""

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from crm.api.bulk import bulk_apply
from crm.api.idempotency import idempotent
from crm.api.permissions import actor_of, check_write, token_of
from crm.api.schema import ErrorSerializer
from crm.models import Channel, Scope, User
from crm.permissions import can_merge_customers
from customers.api.serializers import (
    ActivitySerializer,
    CustomerBulkResultSerializer,
    CustomerBulkSerializer,
    CustomerResultSerializer,
    CustomerSearchQuerySerializer,
    CustomerSearchSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    MergeRequestSerializer,
    MergeResultSerializer,
    TimelineQuerySerializer,
    TimelineSerializer,
)
from customers.models import Customer
from customers.selectors import customer_for_page, customer_search, customer_timeline
from customers.services import Identity, customer_merge, customer_resolve

ERRORS_READ = {
    401: OpenApiResponse(ErrorSerializer, description="No or an unknown token."),
    403: OpenApiResponse(ErrorSerializer, description="The token or role lacks the scope."),
}
ERRORS_ONE = {**ERRORS_READ, 404: OpenApiResponse(ErrorSerializer, description="No such customer.")}
ERRORS_WRITE = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid fields, with a message per field."),
    401: ERRORS_READ[401],
    403: OpenApiResponse(
        ErrorSerializer,
        description="The scope is missing, or the token may not write in that channel or store.",
    ),
    422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused with another body."),
}

CUSTOMER_EXAMPLE = {
    "id": 4211,
    "first_name": "Maria",
    "last_name": "Keller",
    "full_name": "Maria Keller",
    "address_line1": "Lindenstraße 4",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
    "home_store": "st01",
    "customer_since": "2024-03-02T10:15:00Z",
    "contact_points": [
        {
            "kind": "email",
            "value": "maria.keller@example.com",
            "source": "web",
            "verified": False,
            "undeliverable_at": None,
        },
        {
            "kind": "external",
            "value": "webshop:88123",
            "source": "web",
            "verified": False,
            "undeliverable_at": None,
        },
    ],
    "merged_into": None,
    "created_at": "2024-03-02T10:15:00Z",
    "updated_at": "2025-01-10T08:00:00Z",
}
CUSTOMER_REQUEST_EXAMPLE = {
    "channel": "web",
    "email": "maria.keller@example.com",
    "external_ids": {"webshop": "88123"},
    "first_name": "Maria",
    "last_name": "Keller",
    "postcode": "10115",
    "country": "DE",
}
ERROR_EXAMPLE = OpenApiExample(
    "Invalid fields",
    value={
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "Some fields are not valid.",
            "fields": {"email": ["Enter a valid e-mail address."], "nickname": ["Unknown field."]},
        }
    },
    response_only=True,
    status_codes=["400"],
)


PK_MAX = 2**63 - 1
CUSTOMER_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The customer's id."
)


def customer_pk(value: Any) -> int:
    """The id from the URL; one that no record can have (negative, beyond bigint) is a 404."""
    pk = int(value)
    if not 1 <= pk <= PK_MAX:
        raise NotFound("No customer with this id.")
    return pk


def live_customer(value: Any) -> tuple[Customer, int]:
    """The customer with this id or, for a merged record, the one it was merged into (a merge
    re-points older aliases, so one step is enough); with the id asked for."""
    pk = customer_pk(value)
    customer = customer_for_page(customer_id=pk)
    if customer is None:
        raise NotFound("No customer with this id.")
    if customer.merged_into_id:
        survivor = customer_for_page(customer_id=customer.merged_into_id)
        if survivor is None:  # pragma: no cover - merged_into is PROTECTed
            raise NotFound("No customer with this id.")
        return survivor, pk
    return customer, pk


def live_customer_id(value: Any) -> int:
    """The id of the live record behind an id (one query), or 404."""
    pk = customer_pk(value)
    row = Customer.objects.filter(pk=pk).values_list("pk", "merged_into_id").first()
    if row is None:
        raise NotFound("No customer with this id.")
    return row[1] or row[0]


def resolve_customer(request: Request, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Check the caller may write this channel and store, then resolve (create or update)."""
    channel = data.get("channel") or Channel.SYSTEM
    store = data.get("store")
    check_write(request, channel=channel, stores=[store])
    identity = Identity(
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        loyalty_number=data.get("loyalty_number", ""),
        external_ids=dict(data.get("external_ids") or {}),
        first_name=data.get("first_name", ""),
        last_name=data.get("last_name", ""),
        address_line1=data.get("address_line1", ""),
        city=data.get("city", ""),
        postcode=data.get("postcode", ""),
        country=data.get("country", "").upper(),
    )
    resolution = customer_resolve(
        identity=identity, source=channel, store=store, actor=actor_of(request)
    )
    customer = customer_for_page(customer_id=resolution.customer.pk)
    body = {"customer": CustomerSerializer(customer).data, "created": resolution.created}
    return body, resolution.created


class CustomerListView(GenericAPIView):
    read_scope = Scope.CUSTOMERS_READ
    write_scope = Scope.CUSTOMERS_WRITE
    pagination_class = None
    serializer_class = CustomerSerializer

    @extend_schema(
        operation_id="customers_search",
        summary="Search customers",
        description="Find customers by an exact identifier (e-mail, phone in any format, loyalty "
        "number, order number, system:id, inquiry reference) or by the words of the name (25 "
        "a page, in name order; follow `next`). Merged records are not listed.",
        parameters=[CustomerSearchQuerySerializer],
        responses={200: CustomerSearchSerializer, 400: ErrorSerializer, **ERRORS_READ},
        examples=[
            OpenApiExample(
                "Found by e-mail",
                value={
                    "results": [CUSTOMER_EXAMPLE],
                    "matched_by": "email",
                    "page": 1,
                    "next": None,
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = CustomerSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = query.validated_data["page"]
        found = customer_search(query=query.validated_data["q"], page=page)
        next_url = (
            replace_query_param(request.build_absolute_uri(), "page", found.page + 1)
            if found.has_next
            else None
        )
        return Response(
            {
                "results": CustomerSerializer(found.customers, many=True).data,
                "matched_by": found.matched_by,
                "page": found.page,
                "next": next_url,
            }
        )

    @extend_schema(
        operation_id="customers_upsert",
        summary="Create or update a customer",
        description="Identity resolution: the strongest identifier (external id, loyalty number, "
        "e-mail, phone) that is known finds her, new identifiers are added and blank name and "
        "address fields filled; otherwise a new customer is made. 201 when new, 200 when an "
        "existing record was found. Identifiers of two different records never join them: a "
        "merge suggestion is recorded for a supervisor.",
        request=CustomerWriteSerializer,
        responses={
            201: OpenApiResponse(CustomerResultSerializer, description="A new customer."),
            200: OpenApiResponse(CustomerResultSerializer, description="An existing customer."),
            **ERRORS_WRITE,
        },
        examples=[
            OpenApiExample("From the web shop", value=CUSTOMER_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created",
                value={"customer": CUSTOMER_EXAMPLE, "created": True},
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Found",
                value={"customer": CUSTOMER_EXAMPLE, "created": False},
                response_only=True,
                status_codes=["200"],
            ),
            ERROR_EXAMPLE,
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CustomerWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        body, created = resolve_customer(request, serializer.validated_data)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CustomerBulkView(GenericAPIView):
    write_scope = Scope.CUSTOMERS_WRITE
    pagination_class = None
    serializer_class = CustomerBulkSerializer

    @extend_schema(
        operation_id="customers_bulk_upsert",
        summary="Create or update many customers",
        description="Up to 1,000 items, each the body of POST /customers/, each resolved on its "
        "own: valid items are stored even when others fail. Answers 207 with one result per "
        "item (its status: 201, 200, 400 or 403).",
        request=CustomerBulkSerializer,
        responses={207: CustomerBulkResultSerializer, **ERRORS_WRITE},
        examples=[
            OpenApiExample(
                "Two customers",
                value={
                    "items": [
                        CUSTOMER_REQUEST_EXAMPLE,
                        {"channel": "web", "email": "not-an-address"},
                    ]
                },
                request_only=True,
            ),
            OpenApiExample(
                "One stored, one refused",
                value={
                    "results": [
                        {
                            "index": 0,
                            "status": 201,
                            "data": {"customer": CUSTOMER_EXAMPLE, "created": True},
                        },
                        {
                            "index": 1,
                            "status": 400,
                            "error": {
                                "code": "invalid",
                                "fields": {"email": ["Enter a valid e-mail address."]},
                            },
                        },
                    ]
                },
                response_only=True,
                status_codes=["207"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CustomerBulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def write(data: dict[str, Any]) -> dict[str, Any]:
            body, created = resolve_customer(request, data)
            return {**body, "_status": 201 if created else 200}

        results = bulk_apply(
            serializer.validated_data["items"],
            CustomerWriteSerializer,
            write,
            {"request": request},
        )
        return Response({"results": results}, status=status.HTTP_207_MULTI_STATUS)


class CustomerDetailView(GenericAPIView):
    read_scope = Scope.CUSTOMERS_READ
    pagination_class = None
    serializer_class = CustomerSerializer

    @extend_schema(
        operation_id="customers_retrieve",
        parameters=[CUSTOMER_ID],
        summary="A customer",
        description="Her record with contact points. The id of a merged record answers with the "
        "record it was merged into; `merged_into` then holds that record's id.",
        responses={200: CustomerSerializer, **ERRORS_ONE},
        examples=[
            OpenApiExample(
                "A customer", value=CUSTOMER_EXAMPLE, response_only=True, status_codes=["200"]
            ),
            OpenApiExample(
                "Asked for a merged record (id 4100)",
                value={**CUSTOMER_EXAMPLE, "merged_into": 4211},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def get(self, request: Request, pk: str) -> Response:
        customer, requested = live_customer(pk)
        return Response(CustomerSerializer(customer, context={"requested_id": requested}).data)


class CustomerTimelineView(GenericAPIView):
    read_scope = Scope.CUSTOMERS_READ
    pagination_class = None
    serializer_class = TimelineSerializer

    @extend_schema(
        operation_id="customers_timeline",
        summary="A customer's timeline",
        description="Her history across channels, newest first, a page at a time: pass "
        "`next_cursor` as `cursor` (or follow `next`) for older entries. Filter by channel and "
        "kind. A merged record's id shows the survivor's timeline.",
        parameters=[CUSTOMER_ID, TimelineQuerySerializer],
        responses={200: TimelineSerializer, 400: ErrorSerializer, **ERRORS_ONE},
        examples=[
            OpenApiExample(
                "A page",
                value={
                    "results": [
                        {
                            "id": 99120,
                            "occurred_at": "2025-01-10T08:00:00Z",
                            "kind": "order_placed",
                            "channel": "web",
                            "store": None,
                            "summary": "Order W100231 (2 items, 89.90)",
                            "detail": "",
                            "actor": None,
                            "actor_role": "",
                            "subject_type": "order",
                            "subject_id": "W100231",
                        }
                    ],
                    "next_cursor": "2025-01-10T08:00:00+00:00_99120",
                    "next": "https://crm.example.com/api/v1/customers/4211/timeline/"
                    "?cursor=2025-01-10T08%3A00%3A00%2B00%3A00_99120",
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request, pk: str) -> Response:
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        customer = Customer(pk=live_customer_id(pk))
        page = customer_timeline(
            customer=customer,
            viewer=request.user,
            channel=params.get("channel", ""),
            kind=params.get("kind", ""),
            before=params.get("cursor", ""),
            limit=params["page_size"],
        )
        next_url = (
            replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
            if page.next_cursor
            else None
        )
        return Response(
            {
                "results": ActivitySerializer(page.activities, many=True).data,
                "next_cursor": page.next_cursor,
                "next": next_url,
            }
        )


def merge_actor(request: Request) -> User:
    """customer_merge needs a person who may merge: the employee, or for a token the admin who
    made it (the token has the customers:merge scope, and its maker answers for it)."""
    token = token_of(request)
    if token is None:
        return cast(User, actor_of(request))
    owner = token.created_by
    if owner is None or not can_merge_customers(owner):
        raise PermissionDenied(
            "Merges are recorded in a supervisor's name: this token's maker may not merge."
        )
    return owner


class CustomerMergeView(GenericAPIView):
    write_scope = Scope.CUSTOMERS_MERGE
    pagination_class = None
    serializer_class = MergeRequestSerializer

    @extend_schema(
        operation_id="customers_merge",
        parameters=[CUSTOMER_ID],
        summary="Merge another record into this customer",
        description="Moves everything of `merged` (orders, inquiries, contact points, timeline) "
        "onto this customer in one transaction; `merged` stays as an alias. Needs the "
        "customers:merge scope (supervisors). For a token the merge is recorded in the name of "
        "the admin who made it.",
        request=MergeRequestSerializer,
        responses={
            200: MergeResultSerializer,
            **ERRORS_WRITE,
            404: OpenApiResponse(ErrorSerializer, description="No such customer."),
        },
        examples=[
            OpenApiExample("Merge 4100", value={"merged": 4100}, request_only=True),
            OpenApiExample(
                "Merged",
                value={"customer": CUSTOMER_EXAMPLE, "merged": 4100},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Already merged",
                value={
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "The request is not valid.",
                        "fields": {
                            "non_field_errors": [
                                "Jan Keller (#4100) was already merged into another record."
                            ]
                        },
                    }
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: str) -> Response:
        serializer = MergeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        survivor = Customer.objects.filter(pk=customer_pk(pk)).first()
        if survivor is None:
            raise NotFound("No customer with this id.")
        merged_id = serializer.validated_data["merged"]
        merged = Customer.objects.filter(pk=merged_id).first()
        if merged is None:
            raise ValidationError({"merged": ["No customer with this id."]})
        actor = merge_actor(request)
        survivor = customer_merge(survivor=survivor, merged=merged, actor=actor)
        customer = customer_for_page(customer_id=survivor.pk)
        return Response({"customer": CustomerSerializer(customer).data, "merged": merged_id})
