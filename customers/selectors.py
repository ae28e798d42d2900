"""Reads of the customer record, each shaped for the page that shows it."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Collate
from django.utils.dateparse import parse_datetime

from crm.models import Channel
from crm.permissions import AnyUser, can_work_inquiries, is_staff_member, stores_worked_at
from customers.identifiers import (
    external_value,
    normalize_email,
    normalize_loyalty,
    normalize_phone,
    search_key,
)
from customers.models import (
    Activity,
    ActivityKind,
    Comment,
    ContactKind,
    ContactPoint,
    Customer,
    MergeSuggestion,
    MergeSuggestionStatus,
)
from orders.models import Order
from tickets.models import REFERENCE_OFFSET, Inquiry

SEARCH_LIMIT = 25
# Deep pages of a name search cost more the deeper they go; past this, refine the search.
SEARCH_MAX_PAGES = 200
TIMELINE_PAGE = 25
# Offers, visits, wish list and carts on the 360 page's tabs: a page at a time, newest first.
CONTACT_KINDS = (ActivityKind.COMMENT_ADDED,)
_PHONE_CHARACTERS = re.compile(r"^[\d\s().+\-/]+$")
# An inquiry's reference as customers quote it: "R-10234", "r10234", "#R-10234".
_INQUIRY_REFERENCE = re.compile(r"^#?R-?(\d{1,12})$", re.IGNORECASE)


def _customer_list() -> QuerySet[Customer]:
    return (
        Customer.objects.filter(merged_into__isnull=True)
        .select_related("home_store")
        .prefetch_related("contact_points")
    )


@dataclass
class SearchResult:
    customers: list[Customer]
    matched_by: str  # "email", "phone", "loyalty card", "order number", "external id", "name", ""
    page: int = 1
    has_next: bool = False

    @property
    def first_number(self) -> int:
        return (self.page - 1) * SEARCH_LIMIT + 1

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.customers) - 1


def customer_search(*, query: str, page: int = 1) -> SearchResult:
    """Find customers by any identifier: an exact e-mail, phone (any format), loyalty number,
    order number or external id first; otherwise by name (see `_name_matches`), a page of
    SEARCH_LIMIT at a time."""
    query = query.strip()[:200]
    if not query:
        return SearchResult(customers=[], matched_by="")

    for matched_by, ids in _identifier_matches(query):
        if ids:
            customers = list(_customer_list().filter(pk__in=ids))
            return SearchResult(customers=customers, matched_by=matched_by)

    key = search_key(query)
    if not any(ch.isalpha() for ch in key):
        return SearchResult(customers=[], matched_by="")
    page = min(max(page, 1), SEARCH_MAX_PAGES)
    offset = (page - 1) * SEARCH_LIMIT
    ids = _name_matches(key, offset + SEARCH_LIMIT + 1)[offset:]
    found = {customer.pk: customer for customer in _customer_list().filter(pk__in=ids)}
    return SearchResult(
        customers=[found[pk] for pk in ids[:SEARCH_LIMIT]],
        matched_by="name",
        page=page,
        has_next=len(ids) > SEARCH_LIMIT and page < SEARCH_MAX_PAGES,
    )


def _name_matches(key: str, count: int) -> list[int]:
    """The first `count` ids of the customers whose name begins with `key` (a search_key): first
    those whose name read "last first" does, in that order ("smith jo" finds Jo Smith, "smith"
    every Smith), then those whose name read "first last" does ("jo smi"). Both are ranges of
    ordered indexes read in order, so their cost does not grow with the number of customers.
    Only when no name begins with it, those with every word of it anywhere in the name ("an lo"
    finds Ana López), in name order."""
    live = Customer.objects.filter(merged_into__isnull=True)
    surname_first = Q(search_name_reversed__startswith=key)
    ids = _prefix_matches(live, "search_name_reversed", key, count)
    if len(ids) < count:
        ids += _prefix_matches(live.exclude(surname_first), "search_name", key, count - len(ids))
    if ids:
        return ids
    words = Q()
    for word in key.split():
        words &= Q(search_name__contains=word)
    return list(
        live.filter(words)
        .order_by("last_name", "first_name", "id")
        .values_list("pk", flat=True)[:count]
    )


def _prefix_matches(customers: QuerySet[Customer], field: str, key: str, count: int) -> list[int]:
    """The first `count` ids of `customers` whose `field` begins with `key`, in its byte order:
    one range of its prefix index on PostgreSQL (collation "C"; SQLite's default)."""
    ordered = Collate(F(field), "C") if connection.vendor == "postgresql" else F(field)
    return list(
        customers.alias(name_key=ordered)
        .filter(name_key__startswith=key)
        .order_by("name_key", "id")
        .values_list("pk", flat=True)[:count]
    )


def _normalised(normalise: Callable[[str], str], raw: str) -> str | None:
    try:
        return normalise(raw)
    except ValidationError:
        return None


def _identifier_matches(query: str) -> Iterator[tuple[str, list[int]]]:
    """Yield (label, customer ids) for each identifier kind the query can be, cheapest first."""
    is_phone_like = bool(_PHONE_CHARACTERS.match(query)) and sum(ch.isdigit() for ch in query) >= 7
    candidates = [
        ("email", ContactKind.EMAIL, "@" in query and _normalised(normalize_email, query)),
        (
            "external id",
            ContactKind.EXTERNAL,
            ":" in query and _normalised(lambda q: external_value(*q.split(":", 1)), query),
        ),
        ("phone", ContactKind.PHONE, is_phone_like and _normalised(normalize_phone, query)),
        (
            "loyalty card",
            ContactKind.LOYALTY,
            "@" not in query and ":" not in query and _normalised(normalize_loyalty, query),
        ),
    ]
    for label, kind, value in candidates:
        if value:
            ids = ContactPoint.objects.filter(kind=kind, value=value).values_list(
                "customer_id", flat=True
            )
            yield label, list(ids)
    if " " not in query and any(ch.isdigit() for ch in query):
        yield (
            "order number",
            list(Order.objects.filter(number=query.upper()).values_list("customer_id", flat=True)),
        )
    if reference := _INQUIRY_REFERENCE.match(query):
        inquiry_id = int(reference.group(1)) - REFERENCE_OFFSET
        yield (
            "inquiry reference",
            list(
                Inquiry.objects.filter(pk=inquiry_id, customer__isnull=False).values_list(
                    "customer_id", flat=True
                )
            ),
        )


def customer_for_page(*, customer_id: int) -> Customer | None:
    """The customer with her contact points and home store (two queries), aliases included."""
    return (
        Customer.objects.select_related("home_store", "merged_into")
        .prefetch_related("contact_points")
        .filter(pk=customer_id)
        .first()
    )


def customer_brief(*, customer_id: int) -> Customer | None:
    """The customer and the record she was merged into, if any, without her contact points: one
    query, for the parts of her page that load on their own."""
    return Customer.objects.select_related("merged_into").filter(pk=customer_id).first()


@dataclass
class CustomerFigures:
    order_count: int
    lifetime_value: Decimal
    average_order: Decimal | None
    last_order_at: datetime | None
    channels: list[str]
    last_contact_at: datetime | None


def customer_figures(*, customer: Customer) -> CustomerFigures:
    """Key figures for the 360 page in two queries, whatever the length of her history."""
    sales_channels = [Channel.WEB, Channel.STORE, Channel.PHONE, Channel.KIOSK]
    figures = (
        Order.objects.filter(customer=customer)
        .exclude(status="cancelled")
        .aggregate(
            order_count=Count("pk"),
            lifetime_value=Sum("total"),
            last_order_at=Max("placed_at"),
            **{
                f"n_{channel}": Count("pk", filter=Q(channel=channel)) for channel in sales_channels
            },
        )
    )
    last_contact = Activity.objects.filter(customer=customer, kind__in=CONTACT_KINDS).aggregate(
        at=Max("occurred_at")
    )["at"]
    count = figures["order_count"]
    value = figures["lifetime_value"] or Decimal("0")
    return CustomerFigures(
        order_count=count,
        lifetime_value=value,
        average_order=(value / count).quantize(Decimal("0.01")) if count else None,
        last_order_at=figures["last_order_at"],
        channels=[Channel(channel).label for channel in sales_channels if figures[f"n_{channel}"]],
        last_contact_at=last_contact,
    )


@dataclass
class TimelinePage:
    activities: list[Activity]
    next_cursor: str  # pass as `before` for the next, older page; "" at the end


def customer_timeline(
    *,
    customer: Customer,
    viewer: AnyUser,
    channel: str = "",
    kind: str = "",
    before: str = "",
    limit: int = TIMELINE_PAGE,
) -> TimelinePage:
    """The newest `limit` entries of her timeline older than the cursor, through the
    (customer, occurred_at desc, id desc) index: one query, whatever the history's length.
    Store staff see the entries of the inquiries they may open only (their stores')."""
    activities = Activity.objects.filter(customer=customer).select_related("store", "actor")
    if is_staff_member(viewer) and not can_work_inquiries(viewer):
        elsewhere = (
            Inquiry.objects.filter(customer=customer)
            .exclude(store__in=stores_worked_at(viewer))
            .values_list(Cast("pk", output_field=CharField()))
        )
        activities = activities.exclude(subject_type="inquiry", subject_id__in=elsewhere)
    if channel in Channel.values:
        activities = activities.filter(channel=channel)
    if kind in ActivityKind.values:
        activities = activities.filter(kind=kind)
    cursor = parse_cursor(before)
    if cursor is not None:
        at, pk = cursor
        activities = activities.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk))
    page = list(activities.order_by("-occurred_at", "-id")[: limit + 1])
    next_cursor = ""
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = f"{last.occurred_at.isoformat()}_{last.pk}"
    return TimelinePage(activities=page, next_cursor=next_cursor)


def comment_activities(*, comment: Comment) -> list[Activity]:
    """The timeline entry a comment made, for showing it the moment it is added."""
    return list(
        Activity.objects.filter(
            customer_id=comment.customer_id, subject_type="comment", subject_id=str(comment.pk)
        ).select_related("store", "actor")
    )


def parse_cursor(before: str) -> tuple[datetime, int] | None:
    at, _, pk = before.rpartition("_")
    moment = parse_datetime(at) if at else None
    if moment is None or not pk.isdigit():
        return None
    return moment, int(pk)


def merge_suggestions_open() -> QuerySet[MergeSuggestion]:
    """Open suggestions with both customers, their contact points and order counts."""
    customers = Customer.objects.select_related("home_store").annotate(order_count=Count("orders"))
    return (
        MergeSuggestion.objects.filter(status=MergeSuggestionStatus.OPEN)
        .prefetch_related(
            Prefetch("customer_a", queryset=customers),
            Prefetch("customer_b", queryset=customers),
            "customer_a__contact_points",
            "customer_b__contact_points",
        )
        .order_by("-created_at", "-id")
    )


def merge_suggestion_for_page(*, suggestion_id: int) -> MergeSuggestion | None:
    return merge_suggestions_open().filter(pk=suggestion_id).first()


def recent_orders(*, customer: Customer, limit: int = 5) -> list[Order]:
    return list(
        Order.objects.filter(customer=customer)
        .select_related("store")
        .order_by("-placed_at", "-id")[:limit]
    )
