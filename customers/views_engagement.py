"""The 360 page's engagement tabs (offers, visits, wish list, carts) and the recent-offers panel
that the stores' counters load.

A tab's address (/customers/<id>/offers/) opened directly is the whole 360 page with that tab
open; htmx asks the same address for the tab's panel alone, or, with a `before` cursor, for the
next rows of its list."""

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import push_url

from crm.permissions import HtmxHttpRequest, can_view_customers, require
from customers import selectors, selectors_engagement, views
from customers.models import Customer, TouchChannel


@dataclass
class CustomerTab:
    """What one tab shows: `page` is its selector's page of rows."""

    name: str
    page: Any
    channel: str = ""  # the offers' channel filter
    start: int | None = None  # the row a timeline entry linked to, the page's first
    summary: selectors_engagement.VisitSummary | None = None
    channel_choices: tuple[tuple[str, str], ...] = ()

    @property
    def panel_template(self) -> str:
        return f"customers/_tab_{self.name}.html"

    @property
    def rows_template(self) -> str:
        return f"customers/_tab_{self.name}_rows.html"


class TabRequest(HtmxHttpRequest):
    # Read by customers/detail.html: the tab to open instead of the history.
    customer_tab: CustomerTab


def _start(request: HtmxHttpRequest) -> int | None:
    value = request.GET.get("from", "")
    return int(value) if value.isdigit() else None


def _offers(request: HtmxHttpRequest, customer: Customer) -> CustomerTab:
    channel = request.GET.get("channel", "")
    channel = channel if channel in TouchChannel.values else ""
    start = _start(request)
    return CustomerTab(
        name="offers",
        page=selectors_engagement.customer_offers(
            customer=customer, channel=channel, before=request.GET.get("before", ""), start=start
        ),
        channel=channel,
        start=start,
        channel_choices=tuple(TouchChannel.choices),
    )


def _visits(request: HtmxHttpRequest, customer: Customer) -> CustomerTab:
    before, start = request.GET.get("before", ""), _start(request)
    return CustomerTab(
        name="visits",
        page=selectors_engagement.customer_visits(customer=customer, before=before, start=start),
        start=start,
        # The summary heads the first page; "more" pages only add rows.
        summary=None if before else selectors_engagement.visit_sources_recent(customer=customer),
    )


def _wish_list(request: HtmxHttpRequest, customer: Customer) -> CustomerTab:
    return CustomerTab(
        name="wishlist",
        page=selectors_engagement.customer_wish_list(
            customer=customer, user=request.user, before=request.GET.get("before", "")
        ),
    )


def _carts(request: HtmxHttpRequest, customer: Customer) -> CustomerTab:
    start = _start(request)
    return CustomerTab(
        name="carts",
        page=selectors_engagement.customer_carts(
            customer=customer, before=request.GET.get("before", ""), start=start
        ),
        start=start,
    )


TABS = {
    "offers": _offers,
    "visits": _visits,
    "wishlist": _wish_list,
    "carts": _carts,
}


def _customer_tab(request: TabRequest, customer_id: int, name: str) -> HttpResponse:
    customer = selectors.customer_brief(customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    if customer.merged_into_id:
        url = reverse(f"customers:{name}", args=[views._survivor(customer).pk])
        return redirect(f"{url}?{request.GET.urlencode()}".rstrip("?"))
    tab = TABS[name](request, customer)
    if request.htmx:
        if request.GET.get("before"):
            return render(request, tab.rows_template, {"customer": customer, "tab": tab})
        response = render(request, tab.panel_template, {"customer": customer, "tab": tab})
        # The address bar shows the tab with its filter: reloading it opens the same view.
        return push_url(response, request.get_full_path())
    # The whole 360 page, as its own view makes it, with this tab open instead of the history.
    request.customer_tab = tab
    return views.customer_detail(request, customer_id)


@require(can_view_customers)
def customer_offers(request: TabRequest, customer_id: int) -> HttpResponse:
    return _customer_tab(request, customer_id, "offers")


@require(can_view_customers)
def customer_visits(request: TabRequest, customer_id: int) -> HttpResponse:
    return _customer_tab(request, customer_id, "visits")


@require(can_view_customers)
def customer_wish_list(request: TabRequest, customer_id: int) -> HttpResponse:
    return _customer_tab(request, customer_id, "wishlist")


@require(can_view_customers)
def customer_carts(request: TabRequest, customer_id: int) -> HttpResponse:
    return _customer_tab(request, customer_id, "carts")


@require(can_view_customers)
def recent_offers(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The customer's last offers and what became of them, as a compact panel the pickup counter
    and the returns desk load beside the customer they serve. `layout=card` makes it a card."""
    customer = selectors.customer_brief(customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    # Merging moves the offers to the surviving record.
    customer = views._survivor(customer)
    if not request.htmx:
        return redirect("customers:offers", customer.pk)
    rows = selectors_engagement.recent_offers(customer_id=customer.pk)
    return render(
        request,
        "customers/_recent_offers.html",
        {
            "customer": customer,
            "offers": rows,
            "layout": "card" if request.GET.get("layout") == "card" else "inline",
            "answered": sum(row.outcome != "sent" for row in rows),
            "redeemed": sum(row.outcome == "redeemed" for row in rows),
        },
    )
