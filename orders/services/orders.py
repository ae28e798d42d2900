"""Recording orders from every channel on the one customer record."""

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, F, Func, Value, When
from django.db.models.functions import Cast, Concat

from crm.models import AuditEntry, Channel, User
from crm.services import audit_entry
from customers.models import ActivityKind, Customer
from customers.services import (
    Identity,
    Intake,
    activities_record,
    activity_entry,
    activity_record,
    customer_resolve,
    customers_resolve_batch,
)
from orders.models import Fulfilment, Order, OrderLine, OrderStatus, Product
from orders.services.pickups import pickup_create
from stores.models import StockAction, StockLevel, Store
from stores.services import stock_adjust

NUMBER_PREFIX = {Channel.WEB: "W", Channel.STORE: "S", Channel.PHONE: "P", Channel.KIOSK: "K"}
STORE_CHANNELS = {Channel.STORE, Channel.KIOSK}


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    # The price charged; the catalogue price when not given.
    unit_price: Decimal | None = None


def order_record(
    *,
    identity: Identity,
    channel: str,
    lines: Sequence[LineInput],
    store: Store | None = None,
    placed_at: datetime | None = None,
    number: str = "",
    shipping: Decimal = Decimal("0"),
    tax: Decimal = Decimal("0"),
    status: str = "",
    external_source: str = "",
    external_id: str = "",
    fulfilment: str = "",
    pickup_store: Store | None = None,
    actor: User | None = None,
    take_stock: bool = True,
    catalogue: Mapping[str, Product] | None = None,
    known_new: bool = False,
) -> Order:
    """Record an order from any channel on the customer found by identity resolution, and put it on
    her timeline. A store or kiosk sale names its store; a till sale takes its goods out of the
    store's stock (order_stock_sell), unless it is history being imported (take_stock=False:
    today's stock counts already reflect it). A pick-up order names its pickup store
    and reserves its stock there in the same transaction, or is refused naming the stores that have
    it. The same external id sent again by the same system returns the order already stored
    instead of a second one.

    A caller recording many orders at once may pass the products it read for all of them
    (`catalogue`, by SKU; any missing are read here) and say it looked their external ids up
    already (`known_new`): the same order sent twice is then still caught by the unique
    constraint on the external id."""
    if external_id and not known_new:
        existing = Order.objects.filter(
            external_source=external_source, external_id=external_id
        ).first()
        if existing is not None:
            return existing
    fulfilment = fulfilment or order_default_fulfilment(channel)
    _validate(
        channel=channel,
        lines=lines,
        store=store,
        shipping=shipping,
        tax=tax,
        fulfilment=fulfilment,
        pickup_store=pickup_store,
    )
    if fulfilment == Fulfilment.PICKUP and not status:
        status = OrderStatus.PLACED
    skus = {line.sku for line in lines}
    products = {sku: catalogue[sku] for sku in skus if catalogue and sku in catalogue}
    if skus - products.keys():
        products |= {p.sku: p for p in Product.objects.filter(sku__in=skus - products.keys())}
    unknown = sorted(skus - products.keys())
    if unknown:
        raise ValidationError({"lines": [f"Unknown SKU: {', '.join(unknown)}."]})

    try:
        with transaction.atomic():
            resolution = customer_resolve(
                identity=identity, source=channel, store=store, occurred_at=placed_at, actor=actor
            )
            order = _create(
                customer=resolution.customer,
                channel=channel,
                lines=lines,
                products=products,
                store=store,
                placed_at=placed_at,
                number=number,
                shipping=shipping,
                tax=tax,
                status=status or order_default_status(channel),
                external_source=external_source,
                external_id=external_id,
                fulfilment=fulfilment,
                pickup_store=pickup_store,
            )
            if pickup_store is not None:
                pickup_create(order=order, store=pickup_store, actor=actor)
            elif take_stock and fulfilment == Fulfilment.CARRY_OUT and store is not None:
                # Taken home from the till: the goods left this store's stock now. (A pick-up
                # order reserves instead, and sells the reservation when it is collected.)
                order_stock_sell(order=order, location=store, actor=actor)
            _order_created_audit(order, actor).save()
            activity_record(**_order_placed_activity(order, lines, actor))
    except IntegrityError:
        # The same order arrived twice at once and the other request stored it, or its number
        # is taken.
        existing = (
            Order.objects.filter(external_source=external_source, external_id=external_id).first()
            if external_id
            else None
        )
        if existing is not None:
            return existing
        if number and Order.objects.filter(number=number).exists():
            raise ValidationError(
                {"number": [f"Order number {number} is already taken."]}
            ) from None
        raise
    return order


def _order_created_audit(order: Order, actor: User | None) -> AuditEntry:
    return audit_entry(
        actor=actor,
        action="order.create",
        obj=order,
        data={
            "number": order.number,
            "customer": order.customer.pk,
            "channel": order.channel,
            "total": str(order.total),
            "external_id": order.external_id,
        },
    )


def _order_placed_activity(
    order: Order, lines: Sequence[LineInput], actor: User | None
) -> dict[str, Any]:
    """The "order placed" timeline entry's arguments (activity_record, activity_entry)."""
    return {
        "customer": order.customer,
        "kind": ActivityKind.ORDER_PLACED,
        "channel": order.channel,
        "store": order.store,
        "actor": actor,
        "occurred_at": order.placed_at,
        "summary": order_placed_summary(order, item_count=sum(line.quantity for line in lines)),
        "subject": ("order", order.number),
    }


@dataclass(frozen=True)
class OrderInput:
    """One order to record, with order_record's arguments of the same names."""

    identity: Identity
    channel: str
    lines: Sequence[LineInput]
    store: Store | None = None
    placed_at: datetime | None = None
    number: str = ""
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    external_source: str = ""
    external_id: str = ""
    fulfilment: str = ""
    pickup_store: Store | None = None


def orders_record_batch(
    *,
    orders: Sequence[OrderInput],
    catalogue: Mapping[str, Product],
    actor: User | None = None,
) -> list[Order | None]:
    """Record many new orders at once, as order_record would one by one, in a few statements for
    all of them: orders that touch no stock (neither a pick-up order nor a till sale), whose
    products are all in `catalogue`, and whose customer customers_resolve_batch resolves. The
    others are None, to be recorded with order_record: those, the ones order_record would refuse
    (it says why), and orders sharing an external id, a number or a customer identifier with
    another of the batch, whose outcome depends on which is recorded first. The caller has
    looked the external ids up already. Writes in the caller's transaction; an external id or
    number stored concurrently makes it fail with IntegrityError."""
    keys = [_batch_keys(order) for order in orders]
    given = Counter(key for each in keys for key in each or ())
    taken = [
        index
        for index, (order, each) in enumerate(zip(orders, keys, strict=True))
        if each is not None
        and all(given[key] == 1 for key in each)
        and _batchable(order, catalogue)
    ]
    resolutions = customers_resolve_batch(
        intakes=[
            Intake(
                identity=orders[index].identity,
                source=orders[index].channel,
                store=orders[index].store,
                occurred_at=orders[index].placed_at,
            )
            for index in taken
        ],
        actor=actor,
    )
    recorded: dict[int, tuple[Order, list[OrderLine]]] = {}
    for index, resolution in zip(taken, resolutions, strict=True):
        if resolution is not None:
            given_order = orders[index]
            recorded[index] = _order_new(
                customer=resolution.customer,
                channel=given_order.channel,
                lines=given_order.lines,
                products=catalogue,
                store=given_order.store,
                placed_at=given_order.placed_at,
                number=given_order.number,
                shipping=given_order.shipping,
                tax=given_order.tax,
                status=order_default_status(given_order.channel),
                external_source=given_order.external_source,
                external_id=given_order.external_id,
                fulfilment=given_order.fulfilment or order_default_fulfilment(given_order.channel),
                pickup_store=None,
            )
    Order.objects.bulk_create([order for order, _ in recorded.values()])
    unnumbered = [order for index, (order, _) in recorded.items() if not orders[index].number]
    for order in unnumbered:
        order.number = order_number(order.channel, order.pk)
    Order.objects.filter(pk__in=[order.pk for order in unnumbered]).update(
        number=order_number_expression()
    )
    for order, order_lines in recorded.values():
        for order_line in order_lines:
            order_line.order = order
    OrderLine.objects.bulk_create([line for _, lines in recorded.values() for line in lines])
    AuditEntry.objects.bulk_create(
        [_order_created_audit(order, actor) for order, _ in recorded.values()]
    )
    activities_record(
        [
            activity_entry(**_order_placed_activity(order, orders[index].lines, actor))
            for index, (order, _) in recorded.items()
        ]
    )
    return [recorded[index][0] if index in recorded else None for index in range(len(orders))]


def _batch_keys(order: OrderInput) -> list[tuple[str, ...]] | None:
    """What makes an order's outcome depend on another's of its batch: its external id, its
    number and its customer's identifiers (None when those are not valid)."""
    try:
        keys: list[tuple[str, ...]] = [
            ("contact", kind, value) for kind, value in order.identity.contact_points()
        ]
    except ValidationError:
        return None
    if order.external_id:
        keys.append(("external", order.external_source, order.external_id))
    if order.number:
        keys.append(("number", order.number))
    return keys


def _batchable(order: OrderInput, catalogue: Mapping[str, Product]) -> bool:
    """Whether order_record would record this order without refusing it and without touching
    stock (a pick-up order reserves it, a till sale sells it)."""
    fulfilment = order.fulfilment or order_default_fulfilment(order.channel)
    try:
        _validate(
            channel=order.channel,
            lines=order.lines,
            store=order.store,
            shipping=order.shipping,
            tax=order.tax,
            fulfilment=fulfilment,
            pickup_store=order.pickup_store,
        )
    except ValidationError:
        return False
    return (
        order.pickup_store is None
        and not (fulfilment == Fulfilment.CARRY_OUT and order.store is not None)
        and all(line.sku in catalogue for line in order.lines)
    )


def order_stock_sell(*, order: Order, location: Store, actor: User | None = None) -> None:
    """Take the goods of an order that left a location (a till sale, a shipped parcel) out of its
    stock, in the caller's transaction. The sale already happened, so it is never refused: when the
    stock on record is short, what is on record is sold and the movement says how much was
    missing (a count to correct), since stock cannot go below zero."""
    wanted: dict[int, int] = {}
    products: dict[int, Product] = {}
    for line in order.lines.select_related("product"):
        if line.product is not None:
            wanted[line.product.pk] = wanted.get(line.product.pk, 0) + line.quantity
            products[line.product.pk] = line.product
    # Products in id order: concurrent stock changes lock the same rows in the same order.
    for product_id, quantity in sorted(wanted.items()):
        level = (
            StockLevel.objects.select_for_update()
            .filter(store=location, product_id=product_id)
            .first()
        )
        available = max(level.available, 0) if level is not None else 0
        sold = min(quantity, available)
        if sold < 1:
            continue
        stock_adjust(
            store=location,
            product=products[product_id],
            action=StockAction.SELL,
            quantity=sold,
            actor=actor,
            reason="" if sold == quantity else f"Sold {quantity}, only {sold} on record.",
            reference=order.number,
        )


def order_placed_summary(order: Order, *, item_count: int) -> str:
    """The "order placed" line of the timeline. The demo seeder writes its bulk orders' timeline
    rows with it too, so both read the same. Reads no relation beyond a store already set."""
    where = f" at {order.store.name}" if order.store else ""
    return (
        f"{Channel(order.channel).label} order {order.number}{where}: "
        f"{item_count} item(s), {order.currency} {order.total:,.2f}"
    )


def order_lines_priced(
    lines: Sequence[LineInput], products: Mapping[str, Product]
) -> list[OrderLine]:
    """Unsaved order lines at the price charged, or the catalogue price when none was given."""
    priced = []
    for line in lines:
        product = products[line.sku]
        price = product.price if line.unit_price is None else line.unit_price
        priced.append(
            OrderLine(
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=line.quantity,
                unit_price=price,
                line_total=price * line.quantity,
            )
        )
    return priced


def order_default_status(channel: str) -> str:
    """A till sale is complete at once; other orders (a kiosk order is for goods the store
    lacks) start as placed."""
    return OrderStatus.COMPLETED if channel == Channel.STORE else OrderStatus.PLACED


def order_default_fulfilment(channel: str) -> str:
    """A till sale is taken home from the till; other orders are shipped unless they say
    otherwise."""
    return Fulfilment.CARRY_OUT if channel == Channel.STORE else Fulfilment.SHIP


def order_number(channel: str, pk: int) -> str:
    """The number an order gets from its id: the channel's letter and 100000 + id (W100231)."""
    return f"{NUMBER_PREFIX.get(Channel(channel), 'O')}{100000 + pk}"


def order_number_expression() -> Func:
    """order_number as an expression over the order's row, to number many orders in one
    statement."""
    prefix = Case(
        *(When(channel=channel, then=Value(letter)) for channel, letter in NUMBER_PREFIX.items()),
        default=Value("O"),
    )
    return Concat(prefix, Cast(F("pk") + 100000, output_field=CharField()))


def _validate(
    *,
    channel: str,
    lines: Sequence[LineInput],
    store: Store | None,
    shipping: Decimal,
    tax: Decimal,
    fulfilment: str,
    pickup_store: Store | None,
) -> None:
    errors: dict[str, list[str]] = {}
    if fulfilment not in Fulfilment.values:
        errors["fulfilment"] = [f"“{fulfilment}” is not a way to fulfil an order."]
    elif fulfilment == Fulfilment.PICKUP and pickup_store is None:
        errors["pickup_store"] = ["A pick-up order must name the store it is collected at."]
    elif fulfilment != Fulfilment.PICKUP and pickup_store is not None:
        errors["pickup_store"] = ["Only a pick-up order names a pickup store."]
    if channel not in Channel.values or channel in {
        Channel.SYSTEM,
        Channel.EMAIL,
        Channel.WEB_FORM,
    }:
        errors["channel"] = [f"“{channel}” is not a sales channel."]
    if channel in STORE_CHANNELS and store is None:
        errors["store"] = ["A store or kiosk sale must name its store."]
    if not lines:
        errors["lines"] = ["An order needs at least one line."]
    for line in lines:
        if line.quantity < 1:
            errors.setdefault("lines", []).append(f"{line.sku}: the quantity must be at least 1.")
        if line.unit_price is not None and line.unit_price < 0:
            errors.setdefault("lines", []).append(f"{line.sku}: the price cannot be negative.")
    if shipping < 0:
        errors["shipping"] = ["Shipping cannot be negative."]
    if tax < 0:
        errors["tax"] = ["Tax cannot be negative."]
    if errors:
        raise ValidationError(errors)


def _order_new(
    *,
    customer: Customer,
    channel: str,
    lines: Sequence[LineInput],
    products: Mapping[str, Product],
    store: Store | None,
    placed_at: datetime | None,
    number: str,
    shipping: Decimal,
    tax: Decimal,
    status: str,
    external_source: str,
    external_id: str,
    fulfilment: str,
    pickup_store: Store | None,
) -> tuple[Order, list[OrderLine]]:
    """An unsaved order and its lines; without a number, it has a temporary one until its id
    gives it one (order_number)."""
    order_lines = order_lines_priced(lines, products)
    subtotal = sum((line.line_total for line in order_lines), Decimal("0"))
    order = Order(
        number=number or f"tmp-{secrets.token_hex(12)}",
        customer=customer,
        channel=channel,
        store=store,
        status=status,
        fulfilment=fulfilment,
        pickup_store=pickup_store,
        subtotal=subtotal,
        shipping=shipping,
        tax=tax,
        total=subtotal + shipping + tax,
        external_source=external_source,
        external_id=external_id,
    )
    if placed_at is not None:
        order.placed_at = placed_at
    return order, order_lines


def _create(*, number: str, **arguments: Any) -> Order:
    order, order_lines = _order_new(number=number, **arguments)
    order.save()
    if not number:
        order.number = order_number(order.channel, order.pk)
        order.save(update_fields=["number"])
    for order_line in order_lines:
        order_line.order = order
    OrderLine.objects.bulk_create(order_lines)
    _keep_recorded(order, order_lines)
    return order


def _keep_recorded(order: Order, lines: list[OrderLine]) -> None:
    """Keep the new order's lines, and its having no pickup yet, on it as prefetch_related and
    a read of the pickup would: whoever renders it next does not read back what was just
    written."""
    prefetched = OrderLine.objects.filter(order=order)
    prefetched._result_cache = lines
    prefetched._prefetch_done = True  # type: ignore[attr-defined]
    order._prefetched_objects_cache = {"lines": prefetched}  # type: ignore[attr-defined]
    Order.pickup.related.set_cached_value(order, None)
