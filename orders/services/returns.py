"""Returns: anything bought in any channel, taken back at any store (or started online and
received later), with the refund, the stock, the timeline and the receipt in one transaction."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from crm.models import Channel, User
from crm.permissions import can_override_return_window
from crm.services import audit_record, email_enqueue
from crm.webhooks import webhook_event_emit
from customers.models import ActivityKind, ContactKind, Customer
from customers.services import Identity, activity_record
from orders.models import (
    RETAILER_FAULT_REASONS,
    ItemCondition,
    Order,
    OrderLine,
    Refund,
    RefundKind,
    RefundMethod,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
)
from orders.services.orders import LineInput, order_record
from stores.models import StockAction, Store, StoreKind
from stores.services import stock_adjust

CENT = Decimal("0.01")
# A return started online is judged against the default window: no store is involved yet.
ONLINE_RETURN_WINDOW_DAYS = int(Store._meta.get_field("return_window_days").get_default())


class ReturnItem(NamedTuple):
    """One line coming back: how many, why, and whether it can be sold again."""

    order_line: OrderLine
    quantity: int
    reason: str
    condition: str = ItemCondition.RESELLABLE


@dataclass(frozen=True)
class Settlement:
    """How a return's value was paid out: applied to an exchange order, refunded, or (when the
    exchange costs more) what the customer still paid at the till."""

    value: Decimal
    applied_to_exchange: Decimal
    refunded: Decimal
    customer_paid: Decimal


def return_settlement(return_request: Return, exchange_total: Decimal | None = None) -> Settlement:
    """The split of a return's value, from its stored figures and its exchange order's total."""
    value = return_request.refund_total
    exchange = exchange_total or Decimal("0")
    applied = min(value, exchange)
    return Settlement(
        value=value,
        applied_to_exchange=applied,
        refunded=value - applied,
        customer_paid=exchange - applied,
    )


def return_number(pk: int) -> str:
    """A return's number from its id: R and 100000 + id (R100042)."""
    return f"R{100000 + pk}"


def return_create(
    *,
    order: Order,
    lines: Sequence[tuple[OrderLine, int, str, str]],
    store: Store,
    actor: User,
    refund_method: str = RefundMethod.ORIGINAL_PAYMENT,
    override_reason: str = "",
    channel: str = Channel.STORE,
    exchange_lines: Sequence[LineInput] | None = None,
) -> Return:
    """Take items of an order back at a store, with or without a receipt. No line comes back more
    often than it was bought (the order's lines are locked while returned quantities are summed);
    past the store's return window only a manager may accept it, saying why. The refund is each
    item's price plus its share of the order's tax, plus the shipping charge once when the retailer
    was at fault. Resellable items go back into this store's stock, others are written off. With
    exchange lines, a new store order is placed and paid from the refund first."""
    items = [ReturnItem(*line) for line in lines]
    errors: dict[str, list[str]] = {}
    if store.kind != StoreKind.STORE:
        errors["store"] = [f"{store.name} is not a store: returns are taken at stores."]
    if refund_method not in RefundMethod.values:
        errors["refund_method"] = ["Choose how the refund is paid."]
    with transaction.atomic():
        locked = _locked_lines(order)
        errors |= _item_errors(order, items, locked)
        errors |= _window_errors(order, store, actor, override_reason)
        if errors:
            raise ValidationError(errors)
        outside_window = _days_since(order) > store.return_window_days
        return_request = _new_return(
            order=order,
            items=items,
            locked=locked,
            channel=channel,
            status=ReturnStatus.COMPLETED,
            refund_method=refund_method,
            store=store,
            actor=actor,
            override_by=actor if outside_window else None,
            override_reason=override_reason.strip() if outside_window else "",
        )
        if exchange_lines:
            return_request.exchange_order = _exchange_order(
                customer=order.customer, lines=exchange_lines, store=store, actor=actor
            )
            return_request.save(update_fields=["exchange_order"])
        _complete(return_request, store=store, actor=actor, action="return.create")
    return return_request


def return_request_online(
    *, order: Order, lines: Sequence[tuple[OrderLine, int, str, str]], actor: User | None = None
) -> Return:
    """Record a return started online (the customer was given a return label): the quantities
    are held against what is left to return, but nothing is refunded until the items arrive at a
    store or the warehouse (return_receive). It must be started within the default window."""
    items = [ReturnItem(*line) for line in lines]
    with transaction.atomic():
        locked = _locked_lines(order)
        errors = _item_errors(order, items, locked)
        if _days_since(order) > ONLINE_RETURN_WINDOW_DAYS:
            errors["lines"] = [
                *errors.get("lines", []),
                f"Order {order.number} is past the {ONLINE_RETURN_WINDOW_DAYS}-day window for "
                "returns started online.",
            ]
        if errors:
            raise ValidationError(errors)
        return_request = _new_return(
            order=order,
            items=items,
            locked=locked,
            channel=Channel.WEB,
            status=ReturnStatus.AWAITING_ITEMS,
            refund_method=RefundMethod.ORIGINAL_PAYMENT,
            store=None,
            actor=actor,
        )
        activity_record(
            customer=order.customer,
            kind=ActivityKind.RETURN_REQUESTED,
            channel=Channel.WEB,
            actor=actor,
            summary=f"Return {return_request.number} started online for order {order.number}: "
            f"{_items_text(return_request)}",
            subject=("order", order.number),
        )
        audit_record(
            actor=actor,
            action="return.request",
            obj=return_request,
            data={"order": order.number},
        )
    return return_request


def return_receive(*, return_request: Return, store: Store, actor: User) -> Return:
    """Complete a return started online when its parcel arrives at a store or the warehouse:
    refund, stock and receipt as for a return at the desk. Receiving it twice is refused."""
    with transaction.atomic():
        locked = _locked_lines(return_request.order)
        current = (
            Return.objects.select_for_update(of=("self",))
            .select_related("store")
            .get(pk=return_request.pk)
        )
        if current.status != ReturnStatus.AWAITING_ITEMS:
            where = f" at {current.store.name}" if current.store else ""
            raise ValidationError(
                {"return_request": [f"Return {current.number} was already received{where}."]}
            )
        current.store = store
        _apply_refund_figures(current, list(current.lines.all()), locked)
        current.save(
            update_fields=[
                "store",
                "refund_items",
                "refund_tax",
                "refund_shipping",
                "refund_total",
            ]
        )
        _complete(current, store=store, actor=actor, action="return.receive")
    return current


def _locked_lines(order: Order) -> dict[int, OrderLine]:
    """Every line of the order, locked in id order until the transaction ends. All returns of an
    order take these locks first, so two of them never sum the returned quantities at once (and
    never both refund the shipping)."""
    lines = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(order=order)
        .order_by("id")
    )
    return {line.pk: line for line in lines}


def _item_errors(
    order: Order, items: Sequence[ReturnItem], locked: dict[int, OrderLine]
) -> dict[str, list[str]]:
    messages: list[str] = []
    if not items:
        messages.append("Choose at least one item to return.")
    history = _returned_so_far(order)
    seen: set[int] = set()
    for item in items:
        line = locked.get(item.order_line.pk)
        if line is None:
            messages.append(f"“{item.order_line.name}” is not on order {order.number}.")
            continue
        if line.pk in seen:
            messages.append(f"“{line.name}” is listed twice.")
            continue
        seen.add(line.pk)
        if item.reason not in ReturnReason.values:
            messages.append(f"Choose a reason for returning “{line.name}”.")
        if item.condition not in ItemCondition.values:
            messages.append(f"Say whether “{line.name}” can be sold again.")
        quantity = item.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            messages.append(f"The quantity of “{line.name}” must be at least 1.")
            continue
        returned = sum(quantity for quantity, _ in history[line.pk])
        left = line.quantity - returned
        if quantity > left:
            earlier = ", ".join(where for _, where in history[line.pk])
            messages.append(
                f"Only {left} of “{line.name}” left to return ({line.quantity} bought, "
                f"{returned} returned{' ' + earlier if earlier else ''})."
                if returned
                else f"Only {left} of “{line.name}” were bought."
            )
    return {"lines": messages} if messages else {}


def _returned_so_far(order: Order) -> dict[int, list[tuple[int, str]]]:
    """Per order line, each earlier return's quantity and "at <store> on <date>" (or "online")."""
    history: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for line in ReturnLine.objects.filter(order_line__order=order).select_related(
        "return_request__store"
    ):
        returned = line.return_request
        day = timezone.localdate(returned.created_at)
        when = f"{day:%b} {day.day}"
        where = f"at {returned.store.name}" if returned.store else "online"
        history[line.order_line_id].append((line.quantity, f"{where} on {when}"))
    return history


def _days_since(order: Order) -> int:
    return (timezone.now() - order.placed_at) // timedelta(days=1)


def _window_errors(
    order: Order, store: Store, actor: User, override_reason: str
) -> dict[str, list[str]]:
    days, window = _days_since(order), store.return_window_days
    if days <= window:
        return {}
    outside = (
        f"Order {order.number} was placed {days} days ago, outside {store.name}’s "
        f"{window}-day return window"
    )
    if not can_override_return_window(actor, store):
        return {"override_reason": [f"{outside}: a store manager must accept this return."]}
    if not override_reason.strip():
        return {"override_reason": [f"{outside}: say why you accept it."]}
    return {}


def _new_return(
    *,
    order: Order,
    items: Sequence[ReturnItem],
    locked: dict[int, OrderLine],
    channel: str,
    status: str,
    refund_method: str,
    store: Store | None,
    actor: User | None,
    override_by: User | None = None,
    override_reason: str = "",
) -> Return:
    return_request = Return(
        number=f"tmp-{order.pk}-{timezone.now().timestamp()}",
        customer_id=order.customer_id,
        order=order,
        channel=channel,
        store=store,
        status=status,
        refund_method=refund_method,
        override_by=override_by,
        override_reason=override_reason,
        processed_by=actor,
    )
    return_lines = [
        ReturnLine(
            order_line=locked[item.order_line.pk],
            quantity=item.quantity,
            reason=item.reason,
            condition=item.condition,
        )
        for item in items
    ]
    if status == ReturnStatus.COMPLETED:
        _apply_refund_figures(return_request, return_lines, locked)
    return_request.save()
    return_request.number = return_number(return_request.pk)
    return_request.save(update_fields=["number"])
    for return_line in return_lines:
        return_line.return_request = return_request
    ReturnLine.objects.bulk_create(return_lines)
    return return_request


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _apply_refund_figures(
    return_request: Return, return_lines: Sequence[ReturnLine], locked: dict[int, OrderLine]
) -> None:
    """Set the refund on the return and its lines. Items at the price paid; tax in proportion to
    the items' share of the order subtotal, rounded on the running total of the order's returns so
    that rounding never refunds more tax than was charged (a whole order returned in parts gives
    back exactly its tax); shipping once per order, when a reason is the retailer's fault."""
    order = return_request.order
    earlier = Return.objects.filter(order=order, status=ReturnStatus.COMPLETED).exclude(
        pk=return_request.pk
    )
    before = earlier.aggregate(
        items=Sum("refund_items"), tax=Sum("refund_tax"), shipping=Sum("refund_shipping")
    )
    items_before = before["items"] or Decimal("0")
    tax_before = before["tax"] or Decimal("0")

    line_items = [locked[rl.order_line_id].unit_price * rl.quantity for rl in return_lines]
    items = sum(line_items, Decimal("0"))
    if order.subtotal > 0:
        tax = _cents(order.tax * (items_before + items) / order.subtotal) - tax_before
    else:
        tax = Decimal("0")
    tax = max(Decimal("0"), min(tax, order.tax - tax_before))

    # Each line gets its share of the return's tax; the last takes what rounding leaves.
    tax_left = tax
    for index, (return_line, amount) in enumerate(zip(return_lines, line_items, strict=True)):
        share = tax_left if index == len(return_lines) - 1 else _cents(tax * amount / items)
        share = min(share, tax_left)
        tax_left -= share
        return_line.refund_amount = amount + share
        if return_line.pk:
            return_line.save(update_fields=["refund_amount"])

    at_fault = any(rl.reason in RETAILER_FAULT_REASONS for rl in return_lines)
    shipping_refunded = (before["shipping"] or Decimal("0")) > 0
    shipping = order.shipping if at_fault and not shipping_refunded else Decimal("0")

    return_request.refund_items = items
    return_request.refund_tax = tax
    return_request.refund_shipping = shipping
    return_request.refund_total = items + tax + shipping


def _exchange_identity(customer: Customer) -> Identity:
    """The strongest identifier on the customer's record, so the new order lands on her."""
    points = {point.kind: point.value for point in reversed(customer.contact_points.all())}
    if ContactKind.EXTERNAL in points:
        system, _, external_id = points[ContactKind.EXTERNAL].partition(":")
        return Identity(external_ids={system: external_id})
    if ContactKind.LOYALTY in points:
        return Identity(loyalty_number=points[ContactKind.LOYALTY])
    if ContactKind.EMAIL in points:
        return Identity(email=points[ContactKind.EMAIL])
    if ContactKind.PHONE in points:
        return Identity(phone=points[ContactKind.PHONE])
    raise ValidationError(
        {"exchange_lines": ["The customer has no e-mail, phone or card on record for a new order."]}
    )


def _exchange_order(
    *, customer: Customer, lines: Sequence[LineInput], store: Store, actor: User
) -> Order:
    try:
        new_order = order_record(
            identity=_exchange_identity(customer),
            channel=Channel.STORE,
            store=store,
            lines=lines,
            actor=actor,
        )
    except ValidationError as error:
        # The new order's "lines" are not the returned lines: say which ones are wrong.
        raise ValidationError({"exchange_lines": error.messages}) from error
    if new_order.customer_id != customer.pk:
        # Her identifier now belongs to another record: never bill someone else for the exchange.
        raise ValidationError(
            {"exchange_lines": ["The new order would go to another customer record."]}
        )
    return new_order


def _complete(return_request: Return, *, store: Store, actor: User, action: str) -> None:
    """The steps every completed return shares: refund, stock, timeline, audit and receipt."""
    order = return_request.order
    return_request.status = ReturnStatus.COMPLETED
    return_request.completed_at = timezone.now()
    return_request.processed_by = actor
    return_request.save(update_fields=["status", "completed_at", "processed_by"])

    exchange = return_request.exchange_order
    settlement = return_settlement(return_request, exchange.total if exchange else None)
    if settlement.refunded > 0:
        Refund.objects.create(
            order=order,
            kind=RefundKind.RETURN,
            return_request=return_request,
            amount=settlement.refunded,
            method=return_request.refund_method,
        )

    return_lines = list(return_request.lines.select_related("order_line__product"))
    for return_line in return_lines:
        product = return_line.order_line.product
        if return_line.condition == ItemCondition.RESELLABLE and product is not None:
            stock_adjust(
                store=store,
                product=product,
                action=StockAction.RETURN_TO_STOCK,
                quantity=return_line.quantity,
                actor=actor,
                reason=f"Return {return_request.number}",
                reference=return_request.number,
            )

    money = _settlement_text(order.currency, settlement, return_request)
    activity_record(
        customer=order.customer,
        kind=ActivityKind.RETURN_RECEIVED,
        channel=Channel.STORE if store.kind == StoreKind.STORE else return_request.channel,
        store=store,
        actor=actor,
        summary=f"Return {return_request.number} at {store.name} of order {order.number}: "
        f"{_items_text(return_request, return_lines)}",
        detail=money,
        subject=("order", order.number),
    )
    audit_record(
        actor=actor,
        action=action,
        obj=return_request,
        data={
            "order": order.number,
            "store": store.code,
            "refund_total": str(return_request.refund_total),
            "refunded": str(settlement.refunded),
            "customer_paid": str(settlement.customer_paid),
            "exchange_order": exchange.number if exchange else "",
            "override_reason": return_request.override_reason,
        },
    )
    _receipt_enqueue(return_request, return_lines, settlement, store)
    webhook_event_emit(event="return.completed", obj=return_request)


def _items_text(return_request: Return, return_lines: Sequence[ReturnLine] | None = None) -> str:
    lines = return_lines if return_lines is not None else return_request.lines.all()
    return ", ".join(f"{rl.quantity} × {rl.order_line.name}" for rl in lines)


def _settlement_text(currency: str, settlement: Settlement, return_request: Return) -> str:
    method = RefundMethod(return_request.refund_method).label.lower()
    parts = [f"Return value {currency} {settlement.value:,.2f}"]
    if return_request.exchange_order:
        parts.append(
            f"{currency} {settlement.applied_to_exchange:,.2f} paid for exchange order "
            f"{return_request.exchange_order.number}"
        )
    if settlement.customer_paid:
        parts.append(f"customer paid the difference of {currency} {settlement.customer_paid:,.2f}")
    parts.append(f"refunded {currency} {settlement.refunded:,.2f} to {method}")
    return "; ".join(parts) + "."


def _receipt_enqueue(
    return_request: Return,
    return_lines: Sequence[ReturnLine],
    settlement: Settlement,
    store: Store,
) -> None:
    customer = return_request.order.customer
    email = next(
        (p.value for p in customer.contact_points.all() if p.kind == ContactKind.EMAIL), ""
    )
    if not email:
        return
    text = render_to_string(
        "orders/emails/return_receipt.txt",
        {
            "return_request": return_request,
            "order": return_request.order,
            "customer": customer,
            "lines": return_lines,
            "settlement": settlement,
            "store": store,
        },
    )
    email_enqueue(
        to=email,
        subject=f"Your return {return_request.number} at {store.name}",
        text=text,
        key=f"return-receipt:{return_request.pk}",
        customer=customer,
    )
