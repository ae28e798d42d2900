"""The pickup counter of a store's console: the queue by state and an action per row."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.links import ROW, RowLink
from crm.models import User
from crm.pagination import CountedPaginator
from crm.permissions import HtmxHttpRequest, staff_required, store_counter, stores_worked_at
from customers.insights.selectors import (
    customer_insight_panel,
    insight_panel_for,
    with_insight,
)
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


def _with_links(pickups: Iterable[Pickup], store: Store) -> None:
    """Each row's links (its order, its customer and her offers, the counter's actions), each
    kind reversed once for the page."""
    order, customer = RowLink("orders:detail", ROW), RowLink("customers:detail", ROW)
    offers, recent = RowLink("customers:offers", ROW), RowLink("customers:recent_offers", ROW)
    actions = {
        action: RowLink("stores:pickup_action", store.code, ROW, action)
        for action in (*ACTIONS, "collect")
    }
    for pickup in pickups:
        links: Any = pickup
        links.order_url = order(pickup.order.number)
        links.customer_url = customer(pickup.order.customer_id)
        links.offers_url = offers(pickup.order.customer_id)
        links.recent_offers_url = recent(pickup.order.customer_id)
        links.action_urls = {action: link(pickup.pk) for action, link in actions.items()}


@store_counter
def pickup_counter(request: HttpRequest, store: Store) -> HttpResponse:
    tab = request.GET.get("state", "to_prepare")
    if tab not in TAB_LABELS:
        tab = "to_prepare"
    # Each row's customer insight and the thresholds come in the page's own query.
    pickups = with_insight(selectors.pickups_for_store(store=store, tab=tab), "order__customer")
    counts = selectors.pickup_tab_counts(store=store)
    page = CountedPaginator(pickups, PAGE_SIZE, counts[tab]).get_page(request.GET.get("page"))
    for pickup in page.object_list:
        pickup.insight_panel = customer_insight_panel(
            pickup.order.customer, row=pickup, basket_total=_basket(pickup)
        )
    _with_links(page.object_list, store)
    return render(
        request,
        "stores/pickups/counter.html",
        {
            "store": store,
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in TAB_LABELS.items()],
            "page": page,
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
        pickup.insight_panel = insight_panel_for(  # type: ignore[attr-defined]
            pickup.order.customer, basket_total=_basket(pickup)
        )
        _with_links([pickup], store)
        with timezone.override(store.time_zone):  # the counter shows the store's times
            return render(
                request,
                "stores/pickups/_row.html",
                {"store": store, "pickup": pickup, "error": error, "done": done},
            )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(f"{reverse('stores:pickups', args=[store.code])}?{request.GET.urlencode()}")
