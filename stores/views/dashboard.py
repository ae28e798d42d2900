"""The store manager's view: what needs attention at the store today."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.permissions import store_console
from orders.models import PickupStatus, ReturnReason
from orders.selectors import returns_today_by_reason
from stores import selectors
from stores.models import Store

# The counter tab each waiting status is listed on.
STATUS_TABS = {
    PickupStatus.PLACED: "to_prepare",
    PickupStatus.PREPARING: "preparing",
    PickupStatus.READY: "ready",
}


@store_console
def store_dashboard(request: HttpRequest, store: Store) -> HttpResponse:
    dashboard = selectors.store_dashboard(store=store)
    by_reason = returns_today_by_reason(store)
    waiting = [
        (PickupStatus(status).label, STATUS_TABS[PickupStatus(status)], ages)
        for status, ages in dashboard.waiting_by_age.items()
    ]
    return render(
        request,
        "stores/dashboard.html",
        {
            "store": store,
            "waiting": waiting,
            "expiring_soon": dashboard.expiring_soon,
            "stock_alerts": dashboard.stock_alerts,
            "returns_by_reason": [
                (ReturnReason(reason).label, items) for reason, items in by_reason.items()
            ],
            "returns_today_total": sum(by_reason.values()),
        },
    )
