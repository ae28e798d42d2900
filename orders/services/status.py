"""An order's own status after it is placed: paid, shipped, delivered or cancelled, as the web
shop or the point of sale reports it. Pick-up orders move through their pickup instead."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.models import User
from crm.services import audit_record
from customers.models import ActivityKind
from customers.services import activity_record
from orders.models import Fulfilment, Order, OrderStatus, Refund, RefundKind
from orders.services.orders import order_stock_sell
from stores.models import Store, StoreKind

# Every legal move; anything else is refused. A till sale is completed when it is recorded, and
# a pick-up order is completed or cancelled by its pickup (which moves its reserved stock).
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
# What a caller may ask for; "placed" and "completed" are reached otherwise.
SETTABLE = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)


def order_set_status(
    *, order: Order, to: str, actor: User | None, source: str = "", note: str = ""
) -> Order:
    """Move an order along placed → paid → shipped → delivered (or cancelled before it ships),
    refusing any other move. Shipping takes the goods out of the warehouse's stock; cancelling a
    paid order records its refund. Each move is on the customer's timeline and in the audit log."""
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("customer", "store")
            .get(pk=order.pk)
        )
        origin = locked.status
        _check(locked, origin=origin, to=to)
        locked.status = to
        locked.save(update_fields=["status"])
        if to == OrderStatus.SHIPPED:
            warehouse = (
                Store.objects.filter(kind=StoreKind.WAREHOUSE, is_active=True)
                .order_by("id")
                .first()
            )
            if warehouse is not None:
                order_stock_sell(order=locked, location=warehouse, actor=actor)
        if to == OrderStatus.CANCELLED and origin == OrderStatus.PAID:
            Refund.objects.create(order=locked, kind=RefundKind.CANCELLATION, amount=locked.total)
        activity_record(
            customer=locked.customer,
            # The timeline has no kind of its own for later steps of an order yet.
            kind=ActivityKind.ORDER_STATUS,
            channel=locked.channel,
            store=locked.store,
            actor=actor,
            occurred_at=timezone.now(),
            summary=f"Order {locked.number} {OrderStatus(to).label.lower()}",
            detail=note,
            subject=("order", locked.number),
        )
        audit_record(
            actor=actor,
            action=f"order.{to}",
            obj=locked,
            data={"from": origin, "to": to, "source": source, "note": note},
        )
    return locked


def _check(order: Order, *, origin: str, to: str) -> None:
    if to not in SETTABLE:
        raise ValidationError(
            {"status": [f"“{to}” cannot be set; choose one of: {', '.join(SETTABLE)}."]}
        )
    if order.fulfilment == Fulfilment.PICKUP and to != OrderStatus.PAID:
        raise ValidationError(
            {
                "status": [
                    f"Order {order.number} is picked up in store: it is collected or cancelled "
                    "through its pickup."
                ]
            }
        )
    if order.fulfilment != Fulfilment.SHIP and to in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise ValidationError({"status": [f"Order {order.number} is not shipped to the customer."]})
    if to not in TRANSITIONS.get(origin, frozenset()):
        raise ValidationError(
            {
                "status": [
                    f"An order that is {OrderStatus(origin).label.lower()} cannot become "
                    f"{OrderStatus(to).label.lower()}."
                ]
            }
        )
