"""The returns desk of a store's console: find the customer or the order, pick what comes back,
and print the receipt (the customer is e-mailed it too)."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm.models import User
from crm.permissions import can_override_return_window, store_console
from customers.insights.selectors import customer_with_insight, insight_panel_for
from customers.models import Customer
from customers.selectors import customer_search
from orders import selectors
from orders.models import ItemCondition, Order, RefundMethod, Return, ReturnReason, ReturnStatus
from orders.selectors import DeskLine, DeskOrder
from orders.services import LineInput
from orders.services.returns import (
    ReturnItem,
    return_create,
    return_receive,
    return_settlement,
)
from stores.models import Store

# Rows of "Exchange for" on the form: enough for a size swap or two, with no script to add more.
EXCHANGE_ROWS = 3


class ReturnForm(forms.Form):
    """One order's lines on the desk: a quantity, reason and condition per line still
    returnable, the refund method, the manager's reason when outside the window, and the
    items the customer takes instead (a new store order paid from the refund)."""

    refund_method = forms.ChoiceField(
        choices=RefundMethod.choices,
        initial=RefundMethod.ORIGINAL_PAYMENT,
        widget=forms.RadioSelect,
        label="Refund to",
    )
    override_reason = forms.CharField(
        max_length=255, required=False, label="Manager’s reason to accept it"
    )

    def __init__(self, desk_order: DeskOrder, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = desk_order.order.number
        super().__init__(*args, **kwargs)
        self.desk_order = desk_order
        self.rows: list[tuple[DeskLine, forms.BoundField, forms.BoundField, forms.BoundField]] = []
        for desk_line in desk_order.lines:
            if desk_line.left < 1:
                continue
            pk, name = desk_line.line.pk, desk_line.line.name
            self.fields[f"qty_{pk}"] = forms.IntegerField(
                min_value=0,
                max_value=desk_line.left,
                initial=0,
                required=False,
                label=f"Quantity of {name} to return",
            )
            self.fields[f"reason_{pk}"] = forms.ChoiceField(
                choices=[("", "Choose…"), *ReturnReason.choices],
                required=False,
                label=f"Reason for {name}",
            )
            self.fields[f"condition_{pk}"] = forms.ChoiceField(
                choices=ItemCondition.choices,
                initial=ItemCondition.RESELLABLE,
                label=f"Condition of {name}",
            )
            self.rows.append(
                (
                    desk_line,
                    self[f"qty_{pk}"],
                    self[f"reason_{pk}"],
                    self[f"condition_{pk}"],
                )
            )
        self.exchange_rows: list[tuple[forms.BoundField, forms.BoundField]] = []
        for row in range(1, EXCHANGE_ROWS + 1):
            self.fields[f"exchange_sku_{row}"] = forms.CharField(
                max_length=32, required=False, label=f"SKU of exchange item {row}"
            )
            self.fields[f"exchange_qty_{row}"] = forms.IntegerField(
                min_value=1, max_value=99, required=False, label=f"Quantity of exchange item {row}"
            )
            self.exchange_rows.append((self[f"exchange_sku_{row}"], self[f"exchange_qty_{row}"]))
        # The new order's own errors (unknown SKU, stock), shown in the exchange section.
        self.exchange_errors: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.items: list[ReturnItem] = []
        for desk_line, *_ in self.rows:
            pk = desk_line.line.pk
            quantity = data.get(f"qty_{pk}") or 0
            if quantity < 1:
                continue
            reason = data.get(f"reason_{pk}", "")
            if not reason:
                self.add_error(f"reason_{pk}", "Choose why it comes back.")
                continue
            self.items.append(
                ReturnItem(desk_line.line, quantity, reason, data.get(f"condition_{pk}", ""))
            )
        self.exchange_lines = self._exchange_lines(data)
        if not self.items and not self.errors:
            raise ValidationError("Set the quantity of at least one item to return.")
        return data

    def _exchange_lines(self, data: dict[str, Any]) -> list[LineInput]:
        lines = []
        for row in range(1, EXCHANGE_ROWS + 1):
            sku = (data.get(f"exchange_sku_{row}") or "").strip()
            quantity = data.get(f"exchange_qty_{row}")
            if not sku:
                if quantity:
                    self.add_error(f"exchange_sku_{row}", "Enter the SKU of the item taken.")
                continue
            # A SKU alone means one of it: the usual swap of a size or a colour.
            lines.append(LineInput(sku=sku, quantity=quantity or 1))
        return lines

    @property
    def exchange_open(self) -> bool:
        """Whether the "Exchange for" section starts open: something was typed into it."""
        return bool(self.exchange_errors) or any(
            sku.value() or qty.value() or sku.errors or qty.errors
            for sku, qty in self.exchange_rows
        )

    def add_service_errors(self, error: ValidationError) -> None:
        for field, field_messages in error.message_dict.items():
            if field == "exchange_lines":
                self.exchange_errors.extend(field_messages)
                continue
            self.add_error(field if field in self.fields else None, field_messages)


def _customer(customer_id: int) -> Customer:
    # Her insight and its thresholds come with her record, for the panel at the desk.
    customer = customer_with_insight(customer_id=customer_id)
    if customer is None or customer.merged_into_id:
        raise Http404("No such customer.")
    return customer


@store_console
def returns_desk(request: HttpRequest, store: Store) -> HttpResponse:
    """Find the customer by anything she gives, or go straight to an order by its number."""
    query = request.GET.get("q", "").strip()
    result = None
    if query:
        order = Order.objects.filter(number__iexact=query).only("number", "customer_id").first()
        if order is not None:
            return redirect(
                reverse("stores:returns_customer", args=[store.code, order.customer_id])
                + f"#order-{order.number}"
            )
        result = customer_search(query=query)
        if len(result.customers) == 1 and not result.has_next:
            return redirect("stores:returns_customer", store.code, result.customers[0].pk)
    return render(
        request,
        "stores/returns/desk.html",
        {"store": store, "query": query, "result": result, "today": _today_count(store)},
    )


def _today_count(store: Store) -> int:
    return sum(selectors.returns_today_by_reason(store).values())


def _render_customer(
    request: HttpRequest,
    store: Store,
    customer: Customer,
    bound: ReturnForm | None = None,
    status: int = 200,
) -> HttpResponse:
    desk_orders = selectors.returns_desk_orders(customer_id=customer.pk)
    forms_by_order = [
        bound if bound and bound.desk_order.order.pk == d.order.pk else ReturnForm(d)
        for d in desk_orders
    ]
    return render(
        request,
        "stores/returns/customer.html",
        {
            "store": store,
            "customer": customer,
            "forms": forms_by_order,
            "limit": selectors.DESK_ORDER_LIMIT,
            "may_override": can_override_return_window(request.user, store),
            "insight": insight_panel_for(customer),
        },
        status=status,
    )


@store_console
def returns_customer(request: HttpRequest, store: Store, customer_id: int) -> HttpResponse:
    return _render_customer(request, store, _customer(customer_id))


@require_POST
@store_console
def returns_order(request: HttpRequest, store: Store, number: str) -> HttpResponse:
    """Take the chosen lines of one order back at this store."""
    order = Order.objects.select_related("customer").filter(number=number).first()
    if order is None:
        raise Http404("No such order.")
    [desk_order] = selectors.returns_desk_orders(customer_id=order.customer_id, order_id=order.pk)
    form = ReturnForm(desk_order, request.POST)
    if form.is_valid():
        try:
            returned = return_create(
                order=order,
                lines=form.items,
                store=store,
                actor=cast(User, request.user),
                refund_method=form.cleaned_data["refund_method"],
                override_reason=form.cleaned_data["override_reason"],
                exchange_lines=form.exchange_lines,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Return {returned.number} recorded; receipt e-mailed.")
            return redirect("stores:return_receipt", store.code, returned.number)
    return _render_customer(request, store, _customer(order.customer_id), form, status=400)


@require_POST
@store_console
def return_receive_parcel(request: HttpRequest, store: Store, number: str) -> HttpResponse:
    """Receive a return started online at this store: it is refunded and restocked here."""
    pending = Return.objects.filter(number=number, status=ReturnStatus.AWAITING_ITEMS).first()
    if pending is None:
        raise Http404("No such return awaiting its items.")
    try:
        received = return_receive(
            return_request=pending, store=store, actor=cast(User, request.user)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("stores:returns_customer", store.code, pending.customer_id)
    messages.success(request, f"Return {received.number} received; receipt e-mailed.")
    return redirect("stores:return_receipt", store.code, received.number)


@store_console
def return_receipt(request: HttpRequest, store: Store, number: str) -> HttpResponse:
    returned = selectors.return_for_receipt(number=number, store=store)
    if returned is None:
        raise Http404("No such return at this store.")
    exchange = returned.exchange_order
    return render(
        request,
        "stores/returns/receipt.html",
        {
            "store": store,
            "return": returned,
            "settlement": return_settlement(returned, exchange.total if exchange else None),
            "emailed_to": selectors.return_receipt_recipient(return_request=returned),
        },
    )


@store_console
def returns_today(request: HttpRequest, store: Store) -> HttpResponse:
    return render(
        request,
        "stores/returns/today.html",
        {
            "store": store,
            "returns": selectors.returns_today(store=store),
            "by_reason": [
                (ReturnReason(reason).label, items)
                for reason, items in selectors.returns_today_by_reason(store).items()
            ],
        },
    )
