"""The pickup counter of a store's console: the queue by state and an action per row."""

from collections.abc import Iterable
from decimal import Decimal
from typing import TypedDict, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from crm import formats
from crm.links import ROW, RowLink
from crm.models import User
from crm.pagination import CountedPaginator
from crm.permissions import HtmxHttpRequest, staff_required, store_counter, stores_worked_at
from customers.insights.flags import FLAG_INSIGHT_FIELDS, Flag, insight_flags
from customers.insights.selectors import (
    insight_of,
    insight_panel_for,
    thresholds_from,
    with_insight,
)
from customers.models import CustomerInsight
from orders.models import Pickup, PickupStatus
from orders.services import pickup_collect, pickup_set_status
from stores import selectors
from stores.models import Store

PAGE_SIZE = 25
TAB_LABELS = {
    "to_prepare": "To prepare",
    "preparing": "Preparing",
    "ready": "Ready",
    "done": "Recently done",
}
# The columns the rows show; of her insight, what its flags and the compact panel read.
ROW_FIELDS = (
    "status",
    "created_at",
    "hold_until",
    "collected_at",
    "wrong_code_attempts",
    "order__number",
    "order__currency",
    "order__total",
    "order__customer__first_name",
    "order__customer__last_name",
    *(f"order__customer__insight__{name}" for name in (*FLAG_INSIGHT_FIELDS, "customer_since")),
)
OPEN_PICKUP_STATUSES = (PickupStatus.PLACED, PickupStatus.PREPARING, PickupStatus.READY)
# The counter's buttons and the move each makes; "collect" checks the code first.
ACTIONS = {
    "prepare": PickupStatus.PREPARING,
    "ready": PickupStatus.READY,
    "cancel": PickupStatus.CANCELLED,
}
DONE_MESSAGES = {
    "prepare": "Order {number}: preparing.",
    "ready": "Order {number} is ready; the customer has been e-mailed the pickup code.",
    "cancel": "Order {number} was cancelled; its stock is released and the order refunded.",
    "collect": "Order {number} was handed over.",
}


def _basket(pickup: Pickup) -> Decimal | None:
    """What she is about to take home: the order of a pickup still to be handed over."""
    return pickup.order.total if pickup.status in OPEN_PICKUP_STATUSES else None


@staff_required
def store_index(request: HttpRequest) -> HttpResponse:
    """The stores whose console the user may work; one store opens straight away."""
    stores = list(stores_worked_at(request.user).order_by("name"))
    if len(stores) == 1:
        return redirect("stores:dashboard", stores[0].code)
    return render(request, "stores/index.html", {"stores": stores})


class CounterRow(TypedDict):
    """A pickup as its row on the counter shows it, its dates and figures written out here in
    the store's time zone (a template filter costs tens of microseconds, and each row had about
    ten). A dict, as templates read a dict's keys at the least cost; numbers shown as they are
    come as text, which a template outputs without localising it first."""

    pk: str
    status: str
    status_label: str
    number: str
    currency: str
    total: str
    order_url: str
    customer_name: str
    customer_url: str
    offers_url: str
    recent_offers_url: str
    action_urls: dict[str, str]
    # The compact insight panel (customers/_insights.html, variant "counter").
    insight_customer: str
    flags: list[Flag]
    has_orders: bool
    contact_count: int
    customer_since: str
    order_count: str
    average_order: str
    returns: str
    created: str
    waiting: str
    hold_until: str
    collected: str
    wrong_code_attempts: int


def _with_flags(pickups: list[Pickup]) -> list[tuple[Pickup, CustomerInsight | None, list[Flag]]]:
    """Each pickup with her insight and its flags, judged from the thresholds loaded with the
    rows (with_insight: the same on every row). The counter's compact panel shows no more of
    her insight panel."""
    if not pickups:
        return []
    thresholds, now = thresholds_from(pickups[0]), timezone.now()
    flagged = []
    for pickup in pickups:
        insight = insight_of(pickup.order.customer)
        flags = insight_flags(insight, thresholds, now=now, basket_total=_basket(pickup))
        flagged.append((pickup, insight, flags))
    return flagged


def _counter_rows(
    rows: Iterable[tuple[Pickup, CustomerInsight | None, list[Flag]]], store: Store
) -> list[CounterRow]:
    """Each pickup's row, with her insight and its flags; each kind of link reversed once for
    the page."""
    order, customer = RowLink("orders:detail", ROW), RowLink("customers:detail", ROW)
    offers, recent = RowLink("customers:offers", ROW), RowLink("customers:recent_offers", ROW)
    actions = {
        action: RowLink("stores:pickup_action", store.code, ROW, action)
        for action in (*ACTIONS, "collect")
    }
    zone = ZoneInfo(store.time_zone)
    shown = []
    for pickup, insight, flags in rows:
        customer_id = pickup.order.customer_id
        ready = pickup.status == PickupStatus.READY
        shown.append(
            CounterRow(
                pk=str(pickup.pk),
                status=pickup.status,
                status_label=pickup.get_status_display(),
                number=pickup.order.number,
                currency=pickup.order.currency,
                total=formats.amount(pickup.order.total),
                order_url=order(pickup.order.number),
                customer_name=pickup.order.customer.full_name,
                customer_url=customer(customer_id),
                offers_url=offers(customer_id),
                recent_offers_url=recent(customer_id),
                action_urls={action: link(pickup.pk) for action, link in actions.items()},
                insight_customer=str(insight.customer_id) if insight else "",
                flags=flags,
                has_orders=insight is not None and insight.order_count > 0,
                contact_count=insight.contact_count if insight else 0,
                customer_since=formats.month_year(insight.customer_since, zone) if insight else "",
                order_count=str(insight.order_count) if insight else "",
                average_order=formats.amount(insight.average_order_total) if insight else "",
                returns=(
                    f"{formats.whole(insight.returns_rate_items)}% of items"
                    if insight and insight.items_returned
                    else "None"
                ),
                created=formats.date_time_zone(pickup.created_at, zone),
                waiting=timesince(pickup.created_at),
                hold_until=(
                    formats.day_time(pickup.hold_until, zone) if pickup.hold_until and ready else ""
                ),
                collected=(
                    formats.day_time(pickup.collected_at, zone) if pickup.collected_at else ""
                ),
                wrong_code_attempts=pickup.wrong_code_attempts,
            )
        )
    return shown


@store_counter
def pickup_counter(request: HttpRequest, store: Store) -> HttpResponse:
    tab = request.GET.get("state", "to_prepare")
    if tab not in TAB_LABELS:
        tab = "to_prepare"
    # Each row's customer insight and the thresholds come in the page's own query.
    pickups = with_insight(
        selectors.pickups_for_store(store=store, tab=tab), "order__customer"
    ).only(*ROW_FIELDS)
    counts = selectors.pickup_tab_counts(store=store)
    page = CountedPaginator(pickups, PAGE_SIZE, counts[tab]).get_page(request.GET.get("page"))
    rows = _counter_rows(_with_flags(list(page.object_list)), store)
    return render(
        request,
        "stores/pickups/counter.html",
        {
            "store": store,
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in TAB_LABELS.items()],
            "page": page,
            "rows": rows,
        },
    )


@require_POST
@store_counter
def pickup_action(
    request: HtmxHttpRequest, store: Store, pickup_id: int, action: str
) -> HttpResponse:
    """Run one counter action on a pickup of this store. htmx swaps the row in place; without
    htmx the counter reloads with a message."""
    pickup = selectors.pickup_at_store(store=store, pickup_id=pickup_id)
    if pickup is None or (action not in ACTIONS and action != "collect"):
        raise Http404("No such pickup.")
    user = cast(User, request.user)
    error = ""
    try:
        if action == "collect":
            pickup = pickup_collect(
                pickup=pickup,
                actor=user,
                code=request.POST.get("code", ""),
                id_check_reason=request.POST.get("id_check_reason", "")[:200],
            )
        else:
            pickup = pickup_set_status(pickup=pickup, to=ACTIONS[action], actor=user)
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
        pickup = selectors.pickup_at_store(store=store, pickup_id=pickup_id) or pickup
    done = "" if error else DONE_MESSAGES[action].format(number=pickup.order.number)
    if request.htmx:
        panel = insight_panel_for(pickup.order.customer, basket_total=_basket(pickup))
        [row] = _counter_rows([(pickup, panel.insight, panel.flags)], store)
        return render(
            request,
            "stores/pickups/_row.html",
            {"store": store, "row": row, "error": error, "done": done},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(f"{reverse('stores:pickups', args=[store.code])}?{request.GET.urlencode()}")
