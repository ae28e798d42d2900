"""Marketing touches and web activity for tests, written through the engagement services."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from crm.models import Channel
from customers.engagement import (
    CartItem,
    cart_abandoned,
    cart_recovered,
    touch_event,
    touch_record,
    visit_record,
    wishlist_add,
)
from customers.models import Cart, Customer, Touch, Visit, WishListItem
from orders.models import Order, Product

_ids = count(1)


def sent_offer(
    customer: Customer,
    *,
    sent_at: datetime | None = None,
    channel: str = "email",
    campaign: str = "Spring sale",
    offer_type: str = "percent_off",
    offer_value: Decimal | None = Decimal("20"),
    promotion_code: str = "",
    opened: datetime | None = None,
    clicked: datetime | None = None,
    redeemed: datetime | None = None,
    order: Order | None = None,
) -> Touch:
    """An offer sent to the customer, and what she did with it at the given times."""
    touch = touch_record(
        customer=customer,
        source="mailer",
        external_id=f"touch-{next(_ids)}",
        offer_type=offer_type,
        offer_value=offer_value,
        channel=channel,
        sent_at=sent_at or timezone.now() - timedelta(days=3),
        campaign=campaign,
        promotion_code=promotion_code,
    ).obj
    for event, at in (("opened", opened), ("clicked", clicked), ("redeemed", redeemed)):
        if at is not None:
            number = order.number if order is not None and event == "redeemed" else ""
            touch = touch_event(touch=touch, event=event, at=at, order_number=number).obj
    return touch


def web_visit(
    customer: Customer,
    *,
    at: datetime | None = None,
    source: str = "search",
    referrer: str = "https://www.google.com/",
    campaign: str = "",
    landing_page: str = "/women/dresses",
) -> Visit:
    return visit_record(
        customer=customer,
        source=source,
        occurred_at=at or timezone.now() - timedelta(days=1),
        referrer=referrer,
        campaign=campaign,
        landing_page=landing_page,
    )


def wished(customer: Customer, product: Product, *, at: datetime | None = None) -> WishListItem:
    return wishlist_add(customer=customer, sku=product.sku, at=at).obj


def left_cart(
    customer: Customer,
    items: list[tuple[Product, int]],
    *,
    step: str = "payment",
    at: datetime | None = None,
    recovered_at: datetime | None = None,
    order: Order | None = None,
) -> Cart:
    """A cart left at a checkout step, and bought later (as `order`) if `recovered_at` is set."""
    external_id = f"cart-{next(_ids)}"
    cart = cart_abandoned(
        customer=customer,
        source="webshop",
        external_id=external_id,
        items=[CartItem(sku=p.sku, quantity=q, price=p.price) for p, q in items],
        step=step,
        abandoned_at=at or timezone.now() - timedelta(days=2),
    ).obj
    if recovered_at is not None:
        cart = cart_recovered(
            source="webshop",
            external_id=external_id,
            order_number=order.number if order is not None else "",
            at=recovered_at,
        ).obj
    return cart


def web_order(customer: Customer, number: str) -> Order:
    order: Order = Order.objects.create(number=number, customer=customer, channel=Channel.WEB)
    return order
