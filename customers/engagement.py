"""Every write of marketing touches and web activity: offers sent and what became of them,
visits, wish-list changes, carts abandoned and recovered. Each is on the customer's timeline and
in the audit log, written in the same transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.models import Channel, User
from crm.services import audit_record
from customers.models import (
    ActivityKind,
    Cart,
    CheckoutStep,
    Customer,
    OfferType,
    Touch,
    TouchChannel,
    Visit,
    VisitSource,
    WishListItem,
)
from customers.services import Identity, activity_record, customer_resolve
from orders.models import Order, Product

# The timeline channel of each way an offer reaches the customer.
TOUCH_TIMELINE_CHANNEL = {
    TouchChannel.EMAIL: Channel.EMAIL,
    TouchChannel.SMS: Channel.SYSTEM,
    TouchChannel.WEB: Channel.WEB,
    TouchChannel.STORE: Channel.STORE,
    TouchChannel.MAIL: Channel.SYSTEM,
}

SENT_BY = {
    TouchChannel.EMAIL: "by e-mail",
    TouchChannel.SMS: "by SMS",
    TouchChannel.WEB: "on the web shop",
    TouchChannel.STORE: "in store",
    TouchChannel.MAIL: "by post",
}

VISIT_SUMMARY = {
    VisitSource.PROMOTION: "Visited from a promotion",
    VisitSource.BOOKMARK: "Visited from a bookmark",
    VisitSource.TYPED: "Visited by typing the address",
    VisitSource.AFFILIATE: "Visited from an affiliate",
    VisitSource.SEARCH: "Visited from a search",
    VisitSource.SOCIAL: "Visited from social media",
    VisitSource.EMAIL: "Visited from an e-mail",
    VisitSource.OTHER: "Visited the web shop",
}

TOUCH_EVENTS = ("opened", "clicked", "redeemed")


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def engagement_customer(
    *,
    customer_id: int | None = None,
    identity: Identity | None = None,
    channel: str,
    actor: User | None = None,
) -> Customer:
    """The customer an event is about: by id (a merged record's id leads to its survivor), or by
    identifiers through identity resolution (which creates her if she is new)."""
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).select_related("merged_into").first()
        if customer is None:
            raise ValidationError({"customer": [f"No customer with id {customer_id}."]})
        return customer.merged_into or customer
    if identity is None:
        raise ValidationError("Name the customer by id or by identity.")
    return customer_resolve(identity=identity, source=channel, actor=actor).customer


def offer_label(touch: Touch) -> str:
    """ "20% off", "$10.00 off", "free shipping": the offer as the timeline shows it."""
    value = touch.offer_value
    if touch.offer_type == OfferType.PERCENT_OFF and value is not None:
        return f"{value.normalize():f}% off"
    if touch.offer_type == OfferType.AMOUNT_OFF and value is not None:
        return f"{money(value)} off"
    return {
        OfferType.FREE_SHIPPING: "free shipping",
        OfferType.GIFT: "a gift",
        OfferType.BUNDLE: "a bundle",
    }.get(OfferType(touch.offer_type), "")


def offer_summary(touch: Touch) -> str:
    label = offer_label(touch)
    return f"Offer {label}" if label else "Offer"


@dataclass
class Recorded[T]:
    obj: T
    # False when the same event was recorded before: nothing changed.
    created: bool


@transaction.atomic
def touch_record(
    *,
    customer: Customer,
    source: str,
    external_id: str,
    offer_type: str,
    channel: str,
    sent_at: datetime | None = None,
    offer_value: Decimal | None = None,
    campaign: str = "",
    promotion_code: str = "",
    description: str = "",
    actor: User | None = None,
) -> Recorded[Touch]:
    """Record an offer sent to the customer. The same (source, external id) sent again is the
    same touch: it is returned unchanged."""
    if offer_type in (OfferType.PERCENT_OFF, OfferType.AMOUNT_OFF) and offer_value is None:
        raise ValidationError({"offer_value": ["This offer type needs a value."]})
    if offer_type == OfferType.PERCENT_OFF and offer_value is not None and offer_value > 100:
        raise ValidationError({"offer_value": ["A percentage cannot be over 100."]})
    touch, created = Touch.objects.get_or_create(
        source=source,
        external_id=external_id,
        defaults={
            "customer": customer,
            "offer_type": offer_type,
            "offer_value": offer_value,
            "channel": channel,
            "sent_at": sent_at or timezone.now(),
            "campaign": campaign,
            "promotion_code": promotion_code,
            "description": description,
        },
    )
    if not created:
        return Recorded(touch, False)
    activity_record(
        customer=customer,
        kind=ActivityKind.OFFER_SENT,
        channel=TOUCH_TIMELINE_CHANNEL[TouchChannel(channel)],
        summary=f"{offer_summary(touch)} sent {SENT_BY[TouchChannel(channel)]}",
        detail=" · ".join(part for part in (campaign, promotion_code, description) if part),
        occurred_at=touch.sent_at,
        actor=actor,
        subject=("touch", str(touch.pk)),
    )
    audit_record(
        actor=actor,
        action="touch.record",
        obj=touch,
        data={"source": source, "external_id": external_id},
    )
    return Recorded(touch, True)


@transaction.atomic
def touch_event(
    *,
    touch: Touch,
    event: str,
    at: datetime | None = None,
    order_number: str = "",
    actor: User | None = None,
) -> Recorded[Touch]:
    """The customer opened, clicked or redeemed an offer. Each event is kept once, at its first
    time: a second "opened" changes nothing. A redemption names the order it led to, which must
    be the same customer's."""
    if event not in TOUCH_EVENTS:
        raise ValidationError({"event": [f"Unknown event {event!r}."]})
    touch = Touch.objects.select_for_update().select_related("customer").get(pk=touch.pk)
    field = f"{event}_at"
    if getattr(touch, field) is not None:
        return Recorded(touch, False)
    order = None
    if event == "redeemed" and order_number:
        order = Order.objects.filter(number=order_number).first()
        if order is None:
            raise ValidationError({"order": [f"No order with number {order_number}."]})
        if order.customer_id != touch.customer_id:
            raise ValidationError({"order": [f"Order {order_number} is another customer's."]})
    when = at or timezone.now()
    setattr(touch, field, when)
    update = [field]
    if order is not None:
        touch.redeemed_order = order
        update.append("redeemed_order")
    touch.save(update_fields=update)
    summary = f"{offer_summary(touch)} {event}"
    if order is not None:
        summary += f" on order {order.number}"
    activity_record(
        customer=touch.customer,
        kind={
            "opened": ActivityKind.OFFER_OPENED,
            "clicked": ActivityKind.OFFER_CLICKED,
            "redeemed": ActivityKind.OFFER_REDEEMED,
        }[event],
        channel=TOUCH_TIMELINE_CHANNEL[TouchChannel(touch.channel)],
        summary=summary,
        occurred_at=when,
        actor=actor,
        subject=("order", order.number) if order is not None else ("touch", str(touch.pk)),
    )
    audit_record(
        actor=actor,
        action=f"touch.{event}",
        obj=touch,
        data={"order": order.number} if order is not None else {},
    )
    return Recorded(touch, True)


@transaction.atomic
def visit_record(
    *,
    customer: Customer,
    source: str,
    occurred_at: datetime | None = None,
    referrer: str = "",
    campaign: str = "",
    landing_page: str = "",
    actor: User | None = None,
) -> Visit:
    """A visit of the web shop by the customer, with what brought her there."""
    visit = Visit.objects.create(
        customer=customer,
        source=source,
        occurred_at=occurred_at or timezone.now(),
        referrer=referrer,
        campaign=campaign,
        landing_page=landing_page,
    )
    detail = " · ".join(part for part in (campaign, referrer, landing_page) if part)
    activity_record(
        customer=customer,
        kind=ActivityKind.VISIT,
        channel=Channel.WEB,
        summary=VISIT_SUMMARY[VisitSource(source)],
        detail=detail,
        occurred_at=visit.occurred_at,
        actor=actor,
        subject=("visit", str(visit.pk)),
    )
    audit_record(actor=actor, action="visit.record", obj=visit)
    return visit


def product_by_sku(sku: str, field: str = "sku") -> Product:
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise ValidationError({field: [f"Unknown SKU {sku}."]})
    return product


def _lock(customer: Customer) -> None:
    # Wish-list changes of one customer are serialised: two adds of one product make one row.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()


@transaction.atomic
def wishlist_add(
    *, customer: Customer, sku: str, at: datetime | None = None, actor: User | None = None
) -> Recorded[WishListItem]:
    """Put a product on the customer's wish list; one already there stays as it is."""
    product = product_by_sku(sku)
    _lock(customer)
    current = WishListItem.objects.filter(
        customer=customer, product=product, removed_at__isnull=True
    ).first()
    if current is not None:
        return Recorded(current, False)
    item = WishListItem.objects.create(
        customer=customer, product=product, added_at=at or timezone.now()
    )
    activity_record(
        customer=customer,
        kind=ActivityKind.WISHLIST_CHANGED,
        channel=Channel.WEB,
        summary=f"Added {product.name} ({product.sku}) to the wish list",
        occurred_at=item.added_at,
        actor=actor,
        subject=("product", product.sku),
    )
    audit_record(actor=actor, action="wishlist.add", obj=item, data={"sku": product.sku})
    return Recorded(item, True)


@transaction.atomic
def wishlist_remove(
    *, customer: Customer, sku: str, at: datetime | None = None, actor: User | None = None
) -> Recorded[WishListItem | None]:
    """Take a product off the customer's wish list; one not on it is nothing to do."""
    product = product_by_sku(sku)
    _lock(customer)
    current = list(
        WishListItem.objects.filter(customer=customer, product=product, removed_at__isnull=True)
    )
    if not current:
        return Recorded(None, False)
    when = at or timezone.now()
    # After a merge the same product may be on the list twice: both go.
    WishListItem.objects.filter(pk__in=[item.pk for item in current]).update(removed_at=when)
    activity_record(
        customer=customer,
        kind=ActivityKind.WISHLIST_CHANGED,
        channel=Channel.WEB,
        summary=f"Removed {product.name} ({product.sku}) from the wish list",
        occurred_at=when,
        actor=actor,
        subject=("product", product.sku),
    )
    item = current[0]
    item.removed_at = when
    audit_record(actor=actor, action="wishlist.remove", obj=item, data={"sku": product.sku})
    return Recorded(item, True)


@dataclass(frozen=True)
class CartItem:
    sku: str
    quantity: int
    price: Decimal


def _check_skus(items: Sequence[CartItem]) -> None:
    known = set(
        Product.objects.filter(sku__in={item.sku for item in items}).values_list("sku", flat=True)
    )
    errors = {
        f"items.{index}.sku": [f"Unknown SKU {item.sku}."]
        for index, item in enumerate(items)
        if item.sku not in known
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cart_abandoned(
    *,
    customer: Customer,
    source: str,
    external_id: str,
    items: Sequence[CartItem],
    step: str,
    abandoned_at: datetime | None = None,
    value: Decimal | None = None,
    actor: User | None = None,
) -> Recorded[Cart]:
    """A cart left at a checkout step. The same cart reported again with the same or an earlier
    time changes nothing; a later report (left again, maybe at another step) updates it. A
    recovered cart cannot be abandoned again."""
    if not items:
        raise ValidationError({"items": ["A cart has at least one item."]})
    _check_skus(items)
    when = abandoned_at or timezone.now()
    total = (
        value
        if value is not None
        else sum((item.price * item.quantity for item in items), Decimal("0"))
    )
    stored = [
        {"sku": item.sku, "quantity": item.quantity, "price": str(item.price)} for item in items
    ]
    cart = Cart.objects.select_for_update().filter(source=source, external_id=external_id).first()
    if cart is not None:
        if cart.recovered_at is not None:
            raise ValidationError(
                {"external_id": [f"Cart {external_id} was recovered; it cannot be abandoned."]}
            )
        if when <= cart.abandoned_at:
            return Recorded(cart, False)
        cart.items, cart.value, cart.abandoned_at, cart.abandoned_step = stored, total, when, step
        cart.save(update_fields=["items", "value", "abandoned_at", "abandoned_step"])
    else:
        cart = Cart.objects.create(
            customer=customer,
            source=source,
            external_id=external_id,
            items=stored,
            value=total,
            abandoned_at=when,
            abandoned_step=step,
        )
    count = sum(item.quantity for item in items)
    activity_record(
        customer=cart.customer,
        kind=ActivityKind.CART_ABANDONED,
        channel=Channel.WEB,
        summary=f"Cart abandoned at {CheckoutStep(step).label.lower()}: "
        f"{count} item{'s' if count != 1 else ''}, {money(total)}",
        detail=", ".join(f"{item.quantity} × {item.sku}" for item in items),
        occurred_at=when,
        actor=actor,
        subject=("cart", str(cart.pk)),
    )
    audit_record(
        actor=actor,
        action="cart.abandoned",
        obj=cart,
        data={"source": source, "external_id": external_id, "step": step},
    )
    return Recorded(cart, True)


@transaction.atomic
def cart_recovered(
    *,
    source: str,
    external_id: str,
    order_number: str = "",
    at: datetime | None = None,
    actor: User | None = None,
) -> Recorded[Cart]:
    """An abandoned cart was bought after all, optionally as the named order (the cart's
    customer's). Recovered once: a second report changes nothing."""
    cart = (
        Cart.objects.select_for_update()
        .select_related("customer")
        .filter(source=source, external_id=external_id)
        .first()
    )
    if cart is None:
        raise ValidationError({"external_id": [f"No abandoned cart {external_id} from {source}."]})
    if cart.recovered_at is not None:
        return Recorded(cart, False)
    order = None
    if order_number:
        order = Order.objects.filter(number=order_number).first()
        if order is None:
            raise ValidationError({"order": [f"No order with number {order_number}."]})
        if order.customer_id != cart.customer_id:
            raise ValidationError({"order": [f"Order {order_number} is another customer's."]})
    cart.recovered_at = at or timezone.now()
    cart.recovered_order = order
    cart.save(update_fields=["recovered_at", "recovered_order"])
    activity_record(
        customer=cart.customer,
        kind=ActivityKind.CART_RECOVERED,
        channel=Channel.WEB,
        summary=f"Cart recovered: order {order.number}" if order else "Cart recovered",
        occurred_at=cart.recovered_at,
        actor=actor,
        subject=("order", order.number) if order else ("cart", str(cart.pk)),
    )
    audit_record(
        actor=actor,
        action="cart.recovered",
        obj=cart,
        data={"order": order.number} if order else {},
    )
    return Recorded(cart, True)


def wish_list(customer: Customer) -> list[WishListItem]:
    """The products on the customer's wish list now, newest first."""
    return list(
        WishListItem.objects.filter(customer=customer, removed_at__isnull=True)
        .select_related("product")
        .order_by("-added_at", "-id")
    )
