"""Everything the CRM holds about one customer that she may take out (the right of access): her
record, contact points, orders, pickups, returns, inquiries with the conversation she saw (never
the staff's internal notes) and call-back requests. A bounded number of queries, whatever her
history's length."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from customers.models import Customer
from orders.models import Order, Pickup, Return
from tickets.models import CallbackRequest, Inquiry, Message, MessageKind


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Any, fields: list[str], **extra: Any) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in fields} | extra


def customer_export(customer: Customer) -> dict[str, Any]:
    orders = (
        Order.objects.filter(customer=customer)
        .select_related("store", "pickup_store")
        .prefetch_related("lines")
        .order_by("placed_at", "id")
    )
    pickups = Pickup.objects.filter(order__customer=customer).select_related("order", "store")
    returns = (
        Return.objects.filter(customer=customer)
        .select_related("order", "store")
        .prefetch_related("lines__order_line")
        .order_by("created_at", "id")
    )
    conversation = Message.objects.exclude(kind=MessageKind.NOTE).order_by("created_at", "id")
    inquiries = (
        Inquiry.objects.filter(customer=customer)
        .select_related("order")
        .prefetch_related(Prefetch("messages", queryset=conversation))
        .order_by("created_at", "id")
    )
    callbacks = CallbackRequest.objects.filter(customer=customer).order_by("created_at", "id")
    return {
        "exported_at": timezone.now().isoformat(),
        "customer": _row(
            customer,
            ["first_name", "last_name", "address_line1", "city", "postcode", "country"],
            customer_since=_value(customer.customer_since),
            home_store=customer.home_store.name if customer.home_store else None,
        ),
        "contact_points": [
            _row(point, ["kind", "value", "source", "verified", "created_at"])
            for point in customer.contact_points.order_by("created_at", "id")
        ],
        "orders": [
            _row(
                order,
                ["number", "channel", "status", "fulfilment", "placed_at", "currency"],
                store=order.store.name if order.store else None,
                pickup_store=order.pickup_store.name if order.pickup_store else None,
                subtotal=str(order.subtotal),
                shipping=str(order.shipping),
                tax=str(order.tax),
                total=str(order.total),
                lines=[
                    _row(line, ["sku", "name", "quantity", "unit_price", "line_total"])
                    for line in order.lines.all()
                ],
            )
            for order in orders
        ],
        "pickups": [
            _row(
                pickup,
                ["status", "ready_at", "hold_until", "collected_at", "created_at"],
                order=pickup.order.number,
                store=pickup.store.name,
            )
            for pickup in pickups.order_by("created_at", "id")
        ],
        "returns": [
            _row(
                returned,
                ["number", "channel", "status", "refund_method", "refund_total", "created_at"],
                order=returned.order.number,
                store=returned.store.name if returned.store else None,
                lines=[
                    _row(line, ["quantity", "reason", "condition", "refund_amount"])
                    | {"sku": line.order_line.sku, "name": line.order_line.name}
                    for line in returned.lines.all()
                ],
            )
            for returned in returns
        ],
        "inquiries": [
            _row(
                inquiry,
                ["subject", "channel", "status", "created_at", "resolved_at", "rating"],
                reference=inquiry.reference,
                order=inquiry.order.number if inquiry.order else None,
                messages=[
                    _row(message, ["kind", "channel", "from_address", "subject", "text"])
                    | {"at": _value(message.created_at)}
                    for message in inquiry.messages.all()
                ],
            )
            for inquiry in inquiries
        ],
        "callback_requests": [
            _row(callback, ["phone", "window_start", "window_end", "status", "created_at"])
            for callback in callbacks
        ],
    }
