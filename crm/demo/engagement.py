"""Marketing touches and web activity for the demo customers: offers sent and what became of them
(opened, clicked, redeemed with an order), web shop visits and what brought them, wish lists,
and carts left at a checkout step (some bought later).

The story customers' engagement goes through the services in customers/engagement.py; the crowd's
is written with bulk INSERTs, row for row as those services would write it (tests/crm/
test_seed_demo.py replays the same plans both ways and compares the rows). Plans are drawn from
each customer's own record (her contact details and orders), with `random.Random(seed)`, so the
same seed gives the same engagement.
"""

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import batched

from django.db import transaction

from crm.demo.plans import NEWEST_DAY, SKUS, catalogue, moment
from crm.models import AuditEntry, Channel
from customers.engagement import (
    SENT_BY,
    TOUCH_TIMELINE_CHANNEL,
    VISIT_SUMMARY,
    CartItem,
    cart_abandoned,
    cart_recovered,
    money,
    offer_summary,
    touch_event,
    touch_record,
    visit_record,
    wishlist_add,
    wishlist_remove,
)
from customers.models import (
    Activity,
    ActivityKind,
    Cart,
    CheckoutStep,
    ContactKind,
    ContactPoint,
    Customer,
    OfferType,
    Touch,
    TouchChannel,
    Visit,
    VisitSource,
    WishListItem,
)
from orders.models import Fulfilment, Order, OrderStatus, Product

MAILER = "mailer"
WEBSHOP = "webshop"
# Crowd customers planned and written per transaction.
BATCH = 500


@dataclass(frozen=True)
class TouchPlan:
    external_id: str
    channel: str
    offer_type: str
    offer_value: Decimal | None
    campaign: str
    sent_at: datetime
    promotion_code: str = ""
    description: str = ""
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    redeemed_at: datetime | None = None
    order_number: str = ""  # the order the redemption led to


@dataclass(frozen=True)
class VisitPlan:
    occurred_at: datetime
    source: str
    referrer: str = ""
    campaign: str = ""
    landing_page: str = ""


@dataclass(frozen=True)
class WishPlan:
    sku: str
    added_at: datetime
    removed_at: datetime | None = None


@dataclass(frozen=True)
class CartPlan:
    external_id: str
    items: tuple[CartItem, ...]
    step: str
    abandoned_at: datetime
    recovered_at: datetime | None = None
    order_number: str = ""


@dataclass(frozen=True)
class EngagementPlan:
    customer_id: int
    touches: tuple[TouchPlan, ...] = ()
    visits: tuple[VisitPlan, ...] = ()
    wishes: tuple[WishPlan, ...] = ()
    carts: tuple[CartPlan, ...] = ()


@dataclass(frozen=True)
class Purchase:
    number: str
    placed_at: datetime
    channel: str


@dataclass(frozen=True)
class Person:
    """What a plan is drawn from: the customer's record as the seed left it."""

    customer_id: int
    since: datetime
    has_email: bool
    has_phone: bool
    # Her orders but pickups (the counters' live work) and cancelled ones, oldest first.
    purchases: tuple[Purchase, ...]


# ---------------------------------------------------------------------------------------------
# Writing: the entry point of seed_demo, and the two ways of writing a plan.


def engagement_write(*, stories: dict[str, Customer], seed: int, today: date) -> None:
    """Engagement for the story customers (through the services) and for most of the crowd (in
    bulk), after their orders are written."""
    story_ids = {customer.pk for customer in stories.values()}
    for plan in story_plans(people(ids=story_ids), stories, today):
        with transaction.atomic():
            engagement_write_through_services(plan)
    crowd = people(exclude=story_ids)
    products = {p.sku: p for p in Product.objects.filter(is_active=True)}
    plans = crowd_plans(crowd, seed=seed, today=today, products=products)
    for batch in batched(plans, BATCH):
        with transaction.atomic():
            engagement_write_in_bulk(batch, products)


def people(*, ids: Iterable[int] = (), exclude: Iterable[int] = ()) -> list[Person]:
    """The live customers (those of `ids`, or all but `exclude`) with their contact kinds and
    purchases, in three queries, in the order they became customers."""
    customers = Customer.objects.filter(merged_into__isnull=True)
    wanted = set(ids)
    if wanted:
        customers = customers.filter(pk__in=wanted)
    if exclude:
        customers = customers.exclude(pk__in=set(exclude))
    rows = list(customers.order_by("customer_since", "pk").values_list("pk", "customer_since"))
    kinds: dict[int, set[str]] = {}
    for customer_id, kind in ContactPoint.objects.filter(
        kind__in=(ContactKind.EMAIL, ContactKind.PHONE)
    ).values_list("customer_id", "kind"):
        kinds.setdefault(customer_id, set()).add(kind)
    purchases: dict[int, list[Purchase]] = {}
    orders = (
        Order.objects.exclude(fulfilment=Fulfilment.PICKUP)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("placed_at", "pk")
        .values_list("customer_id", "number", "placed_at", "channel")
    )
    for customer_id, number, placed_at, channel in orders:
        purchases.setdefault(customer_id, []).append(Purchase(number, placed_at, channel))
    return [
        Person(
            customer_id=pk,
            since=since,
            has_email=ContactKind.EMAIL in kinds.get(pk, set()),
            has_phone=ContactKind.PHONE in kinds.get(pk, set()),
            purchases=tuple(purchases.get(pk, ())),
        )
        for pk, since in rows
    ]


def engagement_write_through_services(plan: EngagementPlan) -> None:
    """Replay a plan as the mailer and the web shop would report it through the API."""
    customer = Customer.objects.get(pk=plan.customer_id)
    for touch_plan in plan.touches:
        touch = touch_record(
            customer=customer,
            source=MAILER,
            external_id=touch_plan.external_id,
            offer_type=touch_plan.offer_type,
            offer_value=touch_plan.offer_value,
            channel=touch_plan.channel,
            sent_at=touch_plan.sent_at,
            campaign=touch_plan.campaign,
            promotion_code=touch_plan.promotion_code,
            description=touch_plan.description,
        ).obj
        for event, at in _events(touch_plan):
            number = touch_plan.order_number if event == "redeemed" else ""
            touch = touch_event(touch=touch, event=event, at=at, order_number=number).obj
    for visit in plan.visits:
        visit_record(
            customer=customer,
            source=visit.source,
            occurred_at=visit.occurred_at,
            referrer=visit.referrer,
            campaign=visit.campaign,
            landing_page=visit.landing_page,
        )
    for wish in plan.wishes:
        wishlist_add(customer=customer, sku=wish.sku, at=wish.added_at)
        if wish.removed_at is not None:
            wishlist_remove(customer=customer, sku=wish.sku, at=wish.removed_at)
    for cart in plan.carts:
        cart_abandoned(
            customer=customer,
            source=WEBSHOP,
            external_id=cart.external_id,
            items=cart.items,
            step=cart.step,
            abandoned_at=cart.abandoned_at,
        )
        if cart.recovered_at is not None:
            cart_recovered(
                source=WEBSHOP,
                external_id=cart.external_id,
                order_number=cart.order_number,
                at=cart.recovered_at,
            )


def _events(plan: TouchPlan) -> list[tuple[str, datetime]]:
    return [
        (event, at)
        for event, at in (
            ("opened", plan.opened_at),
            ("clicked", plan.clicked_at),
            ("redeemed", plan.redeemed_at),
        )
        if at is not None
    ]


def engagement_write_in_bulk(plans: Sequence[EngagementPlan], products: dict[str, Product]) -> None:
    """Write plans with a few multi-row INSERTs: the rows touch_record, touch_event, visit_record,
    wishlist_add/remove, cart_abandoned and cart_recovered would write one event at a time."""
    customers = {pk: Customer(pk=pk) for pk in {plan.customer_id for plan in plans}}
    orders = dict(
        Order.objects.filter(
            number__in={
                number
                for plan in plans
                for number in (
                    *(t.order_number for t in plan.touches),
                    *(c.order_number for c in plan.carts),
                )
                if number
            }
        ).values_list("number", "pk")
    )
    activities: list[Activity] = []
    audit: list[AuditEntry] = []

    touches = Touch.objects.bulk_create(
        (
            Touch(
                customer_id=plan.customer_id,
                source=MAILER,
                external_id=t.external_id,
                campaign=t.campaign,
                promotion_code=t.promotion_code,
                offer_type=t.offer_type,
                offer_value=t.offer_value,
                description=t.description,
                channel=t.channel,
                sent_at=t.sent_at,
                opened_at=t.opened_at,
                clicked_at=t.clicked_at,
                redeemed_at=t.redeemed_at,
                redeemed_order_id=orders.get(t.order_number),
            )
            for plan in plans
            for t in plan.touches
        ),
        batch_size=BATCH,
    )
    touch_plans = [t for plan in plans for t in plan.touches]
    for touch, t in zip(touches, touch_plans, strict=True):
        customer = customers[touch.customer_id]
        channel = TOUCH_TIMELINE_CHANNEL[TouchChannel(t.channel)]
        detail = " · ".join(part for part in (t.campaign, t.promotion_code, t.description) if part)
        activities.append(
            Activity(
                customer=customer,
                kind=ActivityKind.OFFER_SENT,
                channel=channel,
                summary=f"{offer_summary(touch)} sent {SENT_BY[TouchChannel(t.channel)]}"[:255],
                detail=detail,
                occurred_at=t.sent_at,
                subject_type="touch",
                subject_id=str(touch.pk),
            )
        )
        audit.append(
            _audit("touch.record", touch, {"source": MAILER, "external_id": t.external_id})
        )
        for event, at in _events(t):
            with_order = event == "redeemed" and bool(t.order_number)
            summary = f"{offer_summary(touch)} {event}"
            if with_order:
                summary += f" on order {t.order_number}"
            activities.append(
                Activity(
                    customer=customer,
                    kind=_TOUCH_EVENT_KIND[event],
                    channel=channel,
                    summary=summary[:255],
                    occurred_at=at,
                    subject_type="order" if with_order else "touch",
                    subject_id=t.order_number if with_order else str(touch.pk),
                )
            )
            audit.append(
                _audit(f"touch.{event}", touch, {"order": t.order_number} if with_order else {})
            )

    visit_plans = [(plan.customer_id, v) for plan in plans for v in plan.visits]
    visits = Visit.objects.bulk_create(
        (
            Visit(
                customer_id=customer_id,
                source=v.source,
                occurred_at=v.occurred_at,
                referrer=v.referrer,
                campaign=v.campaign,
                landing_page=v.landing_page,
            )
            for customer_id, v in visit_plans
        ),
        batch_size=BATCH,
    )
    for visit, (_, v) in zip(visits, visit_plans, strict=True):
        activities.append(
            Activity(
                customer=customers[visit.customer_id],
                kind=ActivityKind.VISIT,
                channel=Channel.WEB,
                summary=VISIT_SUMMARY[VisitSource(v.source)],
                detail=" · ".join(p for p in (v.campaign, v.referrer, v.landing_page) if p),
                occurred_at=v.occurred_at,
                subject_type="visit",
                subject_id=str(visit.pk),
            )
        )
        audit.append(_audit("visit.record", visit, {}))

    wish_plans = [(plan.customer_id, w) for plan in plans for w in plan.wishes]
    items = WishListItem.objects.bulk_create(
        (
            WishListItem(
                customer_id=customer_id,
                product=products[w.sku],
                added_at=w.added_at,
                removed_at=w.removed_at,
            )
            for customer_id, w in wish_plans
        ),
        batch_size=BATCH,
    )
    for item, (_, w) in zip(items, wish_plans, strict=True):
        product = products[w.sku]
        changes = [("Added", "to", "wishlist.add", w.added_at)]
        if w.removed_at is not None:
            changes.append(("Removed", "from", "wishlist.remove", w.removed_at))
        for verb, preposition, action, at in changes:
            activities.append(
                Activity(
                    customer=customers[item.customer_id],
                    kind=ActivityKind.WISHLIST_CHANGED,
                    channel=Channel.WEB,
                    summary=f"{verb} {product.name} ({product.sku}) {preposition} the wish list"[
                        :255
                    ],
                    occurred_at=at,
                    subject_type="product",
                    subject_id=product.sku,
                )
            )
            audit.append(_audit(action, item, {"sku": product.sku}))

    cart_plans = [(plan.customer_id, c) for plan in plans for c in plan.carts]
    carts = Cart.objects.bulk_create(
        (
            Cart(
                customer_id=customer_id,
                source=WEBSHOP,
                external_id=c.external_id,
                items=[
                    {"sku": i.sku, "quantity": i.quantity, "price": str(i.price)} for i in c.items
                ],
                value=_cart_value(c),
                abandoned_at=c.abandoned_at,
                abandoned_step=c.step,
                recovered_at=c.recovered_at,
                recovered_order_id=orders.get(c.order_number),
            )
            for customer_id, c in cart_plans
        ),
        batch_size=BATCH,
    )
    for cart, (_, c) in zip(carts, cart_plans, strict=True):
        customer = customers[cart.customer_id]
        count = sum(item.quantity for item in c.items)
        activities.append(
            Activity(
                customer=customer,
                kind=ActivityKind.CART_ABANDONED,
                channel=Channel.WEB,
                summary=f"Cart abandoned at {CheckoutStep(c.step).label.lower()}: "
                f"{count} item{'s' if count != 1 else ''}, {money(_cart_value(c))}",
                detail=", ".join(f"{item.quantity} × {item.sku}" for item in c.items),
                occurred_at=c.abandoned_at,
                subject_type="cart",
                subject_id=str(cart.pk),
            )
        )
        audit.append(
            _audit(
                "cart.abandoned",
                cart,
                {"source": WEBSHOP, "external_id": c.external_id, "step": c.step},
            )
        )
        if c.recovered_at is not None:
            activities.append(
                Activity(
                    customer=customer,
                    kind=ActivityKind.CART_RECOVERED,
                    channel=Channel.WEB,
                    summary=f"Cart recovered: order {c.order_number}"
                    if c.order_number
                    else "Cart recovered",
                    occurred_at=c.recovered_at,
                    subject_type="order" if c.order_number else "cart",
                    subject_id=c.order_number or str(cart.pk),
                )
            )
            audit.append(
                _audit("cart.recovered", cart, {"order": c.order_number} if c.order_number else {})
            )

    Activity.objects.bulk_create(activities, batch_size=BATCH)
    AuditEntry.objects.bulk_create(audit, batch_size=BATCH)


_TOUCH_EVENT_KIND = {
    "opened": ActivityKind.OFFER_OPENED,
    "clicked": ActivityKind.OFFER_CLICKED,
    "redeemed": ActivityKind.OFFER_REDEEMED,
}


def _audit(
    action: str, obj: Touch | Visit | WishListItem | Cart, data: dict[str, str]
) -> AuditEntry:
    """The row audit_record appends for a write reported by another system (no actor)."""
    return AuditEntry(
        actor=None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data,
    )


def _cart_value(cart: CartPlan) -> Decimal:
    return sum((item.price * item.quantity for item in cart.items), Decimal("0"))


# ---------------------------------------------------------------------------------------------
# Planning: the story customers by hand, the crowd drawn at random from their records.

ZONE = "America/Los_Angeles"


def story_plans(
    story_people: Sequence[Person], stories: dict[str, Customer], today: date
) -> Iterator[EngagementPlan]:
    """Maya Johnson answers e-mail offers and shops on the web between her store visits; Daniel
    Okafor opens the mailer now and then and once left a cart."""
    by_id = {person.customer_id: person for person in story_people}
    maya = stories.get("Maya Johnson")
    if maya is not None and maya.pk in by_id:
        yield _maya(by_id[maya.pk], today)
    daniel = stories.get("Daniel Okafor")
    if daniel is not None and daniel.pk in by_id:
        yield _daniel(by_id[daniel.pk], today)


def _at(today: date, days_ago: int, clock: str, zone: str = ZONE) -> datetime:
    return moment(today, days_ago, time.fromisoformat(clock), zone)


def _bought(person: Person, around: datetime) -> str:
    """The number of her purchase nearest a moment (the order a redemption or recovery became)."""
    if not person.purchases:
        return ""
    return min(person.purchases, key=lambda p: abs(p.placed_at - around)).number


def _cart_items(*names: str) -> tuple[CartItem, ...]:
    prices = {p.sku: p.price for p in catalogue()}
    items = []
    for name in names:
        count, _, item = name.rpartition(" x ")
        sku = SKUS[item]
        items.append(CartItem(sku=sku, quantity=int(count or 1), price=prices[sku]))
    return tuple(items)


def _maya(person: Person, today: date) -> EngagementPlan:
    def day(days_ago: int, clock: str = "19:30") -> datetime:
        return _at(today, days_ago, clock)

    def order_on(days_ago: int) -> str:
        return _bought(person, day(days_ago, "12:00"))

    key = f"maya-{person.customer_id}"
    touches = (
        TouchPlan(f"{key}-fall", TouchChannel.EMAIL, OfferType.PERCENT_OFF, Decimal("15"),
                  "Fall Wardrobe", day(306, "09:00"), promotion_code="FALL15",
                  opened_at=day(305, "21:10"), clicked_at=day(305, "21:12"),
                  redeemed_at=day(300, "20:15"), order_number=order_on(300)),
        TouchPlan(f"{key}-catalogue", TouchChannel.MAIL, OfferType.GIFT, None,
                  "Holiday Catalogue", day(200, "08:00"),
                  description="A free gift wrap with any purchase over $100"),
        TouchPlan(f"{key}-home", TouchChannel.EMAIL, OfferType.AMOUNT_OFF, Decimal("25"),
                  "Home Refresh", day(128, "09:00"), promotion_code="HOME25",
                  opened_at=day(127, "07:45"), clicked_at=day(127, "07:47"),
                  redeemed_at=day(120, "20:15"), order_number=order_on(120)),
        TouchPlan(f"{key}-shipping", TouchChannel.SMS, OfferType.FREE_SHIPPING, None,
                  "Free Shipping Weekend", day(70, "10:00"), clicked_at=day(70, "12:31")),
        TouchPlan(f"{key}-outerwear", TouchChannel.EMAIL, OfferType.PERCENT_OFF, Decimal("20"),
                  "Outerwear Preview", day(64, "09:00"), promotion_code="COATS20",
                  opened_at=day(63, "18:02"), clicked_at=day(63, "18:05"),
                  # Redeemed at the till in San Francisco: she showed the e-mail.
                  redeemed_at=day(58, "12:40"), order_number=order_on(58)),
        TouchPlan(f"{key}-tech", TouchChannel.EMAIL, OfferType.PERCENT_OFF, Decimal("10"),
                  "Tech Week", day(14, "09:00"), promotion_code="TECH10",
                  opened_at=day(13, "20:01"), clicked_at=day(13, "20:03"),
                  redeemed_at=day(9, "20:15"), order_number=order_on(9)),
        TouchPlan(f"{key}-spring", TouchChannel.EMAIL, OfferType.PERCENT_OFF, Decimal("20"),
                  "Spring Collection", day(6, "09:00"), promotion_code="SPRING20",
                  opened_at=day(5, "22:14")),
        TouchPlan(f"{key}-points", TouchChannel.STORE, OfferType.OTHER, None,
                  "Boots Event", day(3, "13:00"),
                  description="Double loyalty points on boots this week"),
    )  # fmt: skip
    visits = (
        VisitPlan(day(128, "21:40"), VisitSource.EMAIL, "https://mail.example.com/",
                  "home-refresh", "/home/cookware"),
        VisitPlan(day(120, "19:55"), VisitSource.BOOKMARK, "", "", "/account/wish-list"),
        VisitPlan(day(63, "18:05"), VisitSource.EMAIL, "https://mail.example.com/",
                  "outerwear-preview", "/women/coats"),
        VisitPlan(day(40, "21:20"), VisitSource.AFFILIATE, "https://stylenotes.example.com/fall",
                  "", "/women/accessories/crossbody-bag"),
        VisitPlan(day(25, "22:05"), VisitSource.TYPED, "", "", "/"),
        VisitPlan(day(18, "12:15"), VisitSource.SOCIAL, "https://www.instagram.com/",
                  "ss-lookbook", "/lookbook"),
        VisitPlan(day(13, "20:03"), VisitSource.EMAIL, "https://mail.example.com/",
                  "tech-week", "/electronics/earbuds"),
        VisitPlan(day(9, "20:02"), VisitSource.SEARCH, "https://www.google.com/",
                  "", "/electronics/earbuds"),
        VisitPlan(day(5, "22:14"), VisitSource.EMAIL, "https://mail.example.com/",
                  "spring-collection", "/new/spring"),
        VisitPlan(day(4, "21:30"), VisitSource.SEARCH, "https://www.bing.com/",
                  "", "/electronics/smart-watch"),
        VisitPlan(day(2, "20:45"), VisitSource.PROMOTION, "", "spring-banner", "/women/shoes"),
    )  # fmt: skip
    wishes = (
        WishPlan(SKUS["Sunglasses"], day(60, "21:00"), removed_at=day(30, "21:00")),
        WishPlan(SKUS["Crossbody Bag"], day(40, "21:25")),
        WishPlan(SKUS["Ankle Boots"], day(25, "22:10")),
        WishPlan(SKUS["Smart Watch"], day(4, "21:35")),
    )
    carts = (
        CartPlan(f"{key}-cart-oven", _cart_items("Dutch Oven", "Chef's Knife"),
                 CheckoutStep.SHIPPING, day(124, "21:50"), recovered_at=day(120, "20:15"),
                 order_number=order_on(120)),
        CartPlan(f"{key}-cart-boots", _cart_items("Ankle Boots", "Leather Belt"),
                 CheckoutStep.PAYMENT, day(20, "22:30")),
        CartPlan(f"{key}-cart-watch", _cart_items("Smart Watch"), CheckoutStep.CART,
                 day(4, "21:40")),
    )  # fmt: skip
    return EngagementPlan(person.customer_id, touches, visits, wishes, carts)


def _daniel(person: Person, today: date) -> EngagementPlan:
    def day(days_ago: int, clock: str = "19:30") -> datetime:
        return _at(today, days_ago, clock, "America/New_York")

    key = f"daniel-{person.customer_id}"
    touches = (
        TouchPlan(f"{key}-men", TouchChannel.EMAIL, OfferType.AMOUNT_OFF, Decimal("20"),
                  "Menswear Days", day(410, "09:00"), opened_at=day(409, "08:12"),
                  clicked_at=day(409, "08:15"), redeemed_at=day(400, "20:15"),
                  order_number=_bought(person, day(400, "20:15"))),
        TouchPlan(f"{key}-winter", TouchChannel.EMAIL, OfferType.PERCENT_OFF, Decimal("15"),
                  "Winter Coats", day(45, "09:00"), opened_at=day(44, "07:30")),
    )  # fmt: skip
    visits = (
        VisitPlan(day(409, "08:15"), VisitSource.EMAIL, "https://mail.example.com/",
                  "menswear-days", "/men/jackets"),
        VisitPlan(day(12, "13:10"), VisitSource.SEARCH, "https://www.google.com/", "",
                  "/men/overcoats"),
    )  # fmt: skip
    carts = (
        CartPlan(f"{key}-cart", _cart_items("2 x Oxford Shirt"), CheckoutStep.REVIEW,
                 day(12, "13:20")),
    )  # fmt: skip
    return EngagementPlan(person.customer_id, touches, visits, (), carts)


# The mailer's campaigns: (name, offer type, value, code), drawn for the crowd.
_CAMPAIGNS: tuple[tuple[str, str, Decimal | None, str], ...] = (
    ("Spring Collection", OfferType.PERCENT_OFF, Decimal("20"), "SPRING20"),
    ("Summer Sale", OfferType.PERCENT_OFF, Decimal("30"), "SUMMER30"),
    ("Back to School", OfferType.AMOUNT_OFF, Decimal("15"), "SCHOOL15"),
    ("Free Shipping Weekend", OfferType.FREE_SHIPPING, None, ""),
    ("Holiday Gift Guide", OfferType.GIFT, None, ""),
    ("Black Friday", OfferType.PERCENT_OFF, Decimal("40"), "BF40"),
    ("Loyalty Thank You", OfferType.AMOUNT_OFF, Decimal("10"), "THANKYOU10"),
    ("Home Refresh", OfferType.BUNDLE, None, ""),
    ("We Miss You", OfferType.PERCENT_OFF, Decimal("15"), "COMEBACK15"),
    ("Birthday Treat", OfferType.AMOUNT_OFF, Decimal("20"), "BDAY20"),
)
_REFERRERS = {
    VisitSource.SEARCH: ("https://www.google.com/", "https://www.bing.com/",
                         "https://duckduckgo.com/"),
    VisitSource.SOCIAL: ("https://www.instagram.com/", "https://www.pinterest.com/",
                         "https://www.facebook.com/"),
    VisitSource.EMAIL: ("https://mail.example.com/",),
    VisitSource.AFFILIATE: ("https://stylenotes.example.com/", "https://dealfinder.example.net/"),
}  # fmt: skip
_LANDING = (
    "/", "/new", "/sale", "/women/dresses", "/women/coats", "/men/shirts", "/men/jackets",
    "/shoes/boots", "/home/kitchen", "/beauty/skincare", "/kids", "/electronics/audio",
    "/outdoor/jackets", "/account/wish-list",
)  # fmt: skip
_VISIT_SOURCES = (
    (VisitSource.SEARCH, 30), (VisitSource.EMAIL, 20), (VisitSource.TYPED, 12),
    (VisitSource.SOCIAL, 12), (VisitSource.BOOKMARK, 10), (VisitSource.PROMOTION, 8),
    (VisitSource.AFFILIATE, 5), (VisitSource.OTHER, 3),
)  # fmt: skip


def crowd_plans(
    crowd: Sequence[Person], *, seed: int, today: date, products: dict[str, Product]
) -> Iterator[EngagementPlan]:
    """Engagement for most of the crowd: offers to those with an e-mail or a phone (a share
    answered, some redeemed with an order she placed soon after), visits for web shoppers, a
    wish list for some, an abandoned cart for a few (some bought later)."""
    rng = random.Random(f"engagement-{seed}")  # noqa: S311 (made-up data, not secrets)
    skus = sorted(products)
    newest = datetime.combine(today - timedelta(days=NEWEST_DAY), time(12), tzinfo=UTC)
    for person in crowd:
        plan = _crowd_plan(person, rng, skus, products, newest)
        if plan.touches or plan.visits or plan.wishes or plan.carts:
            yield plan


def _unused(purchases: Sequence[Purchase], used: set[str], *, after: datetime) -> Purchase | None:
    """Her latest purchase after a moment that no offer or cart has led to yet."""
    return next(
        (p for p in reversed(purchases) if p.placed_at > after and p.number not in used), None
    )


def _crowd_touch(
    person: Person,
    rng: random.Random,
    external_id: str,
    start: datetime,
    newest: datetime,
    used: set[str],
) -> TouchPlan:
    """One offer to a crowd customer. About one in four led to one of her purchases: sent a few
    days before it, answered, redeemed with it; the others were opened or clicked, or not."""
    name, offer_type, value, code = rng.choice(_CAMPAIGNS)
    channel = (
        TouchChannel.EMAIL
        if person.has_email and (not person.has_phone or rng.random() < 0.8)
        else TouchChannel.SMS
    )
    if rng.random() < 0.05:
        channel = TouchChannel.MAIL
    plan = TouchPlan(external_id, channel, offer_type, value, name, start, promotion_code=code)
    bought = _unused(person.purchases, used, after=start + timedelta(days=2))
    if bought is not None and rng.random() < 0.25:
        used.add(bought.number)
        sent_at = bought.placed_at - timedelta(minutes=rng.randint(24 * 60, 10 * 24 * 60))
        sent_at = max(sent_at, start).replace(second=0, microsecond=0)
        gap = bought.placed_at - sent_at
        opened = sent_at + gap * rng.uniform(0.02, 0.4) if channel == TouchChannel.EMAIL else None
        clicked = (
            (opened or sent_at) + (bought.placed_at - (opened or sent_at)) * rng.uniform(0.01, 0.3)
            if channel != TouchChannel.MAIL
            else None
        )
        return replace(
            plan,
            sent_at=sent_at,
            opened_at=_minute(opened),
            clicked_at=_minute(clicked),
            redeemed_at=bought.placed_at,
            order_number=bought.number,
        )
    sent_at = _between(rng, start, newest - timedelta(days=3))
    opened = clicked = None
    if channel == TouchChannel.EMAIL and rng.random() < 0.45:
        opened = sent_at + timedelta(minutes=rng.randint(5, 1800))
    if (opened or channel == TouchChannel.SMS) and rng.random() < 0.35:
        clicked = (opened or sent_at) + timedelta(minutes=rng.randint(1, 90))
    return replace(plan, sent_at=sent_at, opened_at=opened, clicked_at=clicked)


def _minute(moment: datetime | None) -> datetime | None:
    return moment.replace(second=0, microsecond=0) if moment is not None else None


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole minute between two moments."""
    span = max(int((end - start).total_seconds() // 60), 0)
    return (start + timedelta(minutes=rng.randint(0, span))).replace(second=0, microsecond=0)


def _crowd_plan(
    person: Person,
    rng: random.Random,
    skus: list[str],
    products: dict[str, Product],
    newest: datetime,
) -> EngagementPlan:
    key = f"c{person.customer_id}"
    start = min(person.since, newest - timedelta(days=1))
    web = [p for p in person.purchases if p.channel == Channel.WEB]
    used: set[str] = set()

    touches: list[TouchPlan] = []
    if (person.has_email or person.has_phone) and rng.random() < 0.65:
        for n in range(rng.choice((1, 1, 2, 2, 3, 4))):
            touches.append(_crowd_touch(person, rng, f"{key}-t{n}", start, newest, used))

    visits: list[VisitPlan] = []
    if web or (person.has_email and rng.random() < 0.4):
        # A visit before each of her last web orders, some now and then, a few lately.
        moments = [p.placed_at - timedelta(minutes=rng.randint(3, 40)) for p in web[-3:]]
        moments += [_between(rng, start, newest) for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.4:
            recent = max(start, newest - timedelta(days=28))
            moments += [_between(rng, recent, newest) for _ in range(rng.randint(1, 3))]
        for at in sorted(moments):
            source = rng.choices(*zip(*_VISIT_SOURCES, strict=True))[0]
            visits.append(
                VisitPlan(
                    occurred_at=at.replace(second=0, microsecond=0),
                    source=source,
                    referrer=rng.choice(_REFERRERS[source]) if source in _REFERRERS else "",
                    campaign=rng.choice(_CAMPAIGNS)[0].lower().replace(" ", "-")
                    if source in (VisitSource.EMAIL, VisitSource.PROMOTION)
                    else "",
                    landing_page=rng.choice(_LANDING),
                )
            )

    wishes: list[WishPlan] = []
    if (web or person.has_email) and rng.random() < 0.22:
        for sku in rng.sample(skus, rng.randint(1, 4)):
            added = _between(rng, start, newest)
            removed = _between(rng, added, newest) if rng.random() < 0.25 else None
            wishes.append(WishPlan(sku=sku, added_at=added, removed_at=removed))

    carts: list[CartPlan] = []
    if web and rng.random() < 0.2:
        for n in range(rng.choice((1, 1, 2))):
            items = tuple(
                CartItem(sku=sku, quantity=rng.choice((1, 1, 1, 2)), price=products[sku].price)
                for sku in rng.sample(skus, rng.randint(1, 3))
            )
            step = rng.choice(CheckoutStep.values)
            bought = _unused(web, used, after=start + timedelta(days=1))
            if bought is not None and rng.random() < 0.35:
                # Left at checkout, then bought after all (a reminder e-mail, a second look).
                left = bought.placed_at - timedelta(minutes=rng.randint(60, 4 * 24 * 60))
                used.add(bought.number)
                carts.append(
                    CartPlan(f"{key}-k{n}", items, step, max(left, start), bought.placed_at,
                             bought.number)
                )  # fmt: skip
            else:
                carts.append(CartPlan(f"{key}-k{n}", items, step, _between(rng, start, newest)))
    return EngagementPlan(person.customer_id, tuple(touches), tuple(visits), tuple(wishes),
                          tuple(carts))  # fmt: skip
