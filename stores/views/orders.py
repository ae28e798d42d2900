"""The kiosk of a store's console: an associate orders for a customer at the counter what the
store doesn't have, to ship home or to pick up at a store that has it."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crm.models import Channel, User
from crm.permissions import HtmxHttpRequest, store_counter
from customers.insights.selectors import basket_total, customer_with_insight, insight_panel_for
from customers.models import ContactKind, Customer
from customers.services import Identity
from orders.models import Fulfilment
from orders.services import LineInput, order_record
from stores import selectors
from stores.models import Store, StoreKind
from stores.selectors import StockCheck

LINE_COUNT = 5
# The customer's strongest identifier on file names her to identity resolution.
IDENTIFIER_ORDER = (ContactKind.LOYALTY, ContactKind.EMAIL, ContactKind.PHONE)


class KioskOrderForm(forms.Form):
    """Who orders (a known customer, or an e-mail and/or phone and a name), up to LINE_COUNT lines
    of SKU and quantity, and how she gets them."""

    email = forms.CharField(max_length=254, required=False, label="E-mail")
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    fulfilment = forms.ChoiceField(
        choices=[(Fulfilment.SHIP, "Ship to her home"), (Fulfilment.PICKUP, "Pick up at a store")],
        initial=Fulfilment.SHIP,
        widget=forms.RadioSelect,
        label="How she gets it",
    )
    pickup_store = forms.ModelChoiceField(
        queryset=Store.objects.filter(kind=StoreKind.STORE, is_active=True).order_by("name"),
        required=False,
        empty_label=None,
        label="Pickup store",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, customer: Customer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_customer = customer
        for n in range(1, LINE_COUNT + 1):
            self.fields[f"sku_{n}"] = forms.CharField(
                max_length=64, required=False, label=f"SKU of line {n}"
            )
            self.fields[f"qty_{n}"] = forms.IntegerField(
                min_value=1, max_value=99, initial=1, required=False, label=f"Quantity of line {n}"
            )
        self.lines = [(self[f"sku_{n}"], self[f"qty_{n}"]) for n in range(1, LINE_COUNT + 1)]

    def entered_skus(self) -> list[str]:
        """The SKUs typed so far, in order and once each, valid form or not."""
        skus = [(self[f"sku_{n}"].value() or "").strip() for n in range(1, LINE_COUNT + 1)]
        return list(dict.fromkeys(sku for sku in skus if sku))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.line_inputs: list[LineInput] = []
        for n in range(1, LINE_COUNT + 1):
            sku = (data.get(f"sku_{n}") or "").strip()
            if sku:
                self.line_inputs.append(LineInput(sku=sku, quantity=data.get(f"qty_{n}") or 1))
        if not self.line_inputs and not self.errors:
            self.add_error("sku_1", "Enter the SKU of at least one item.")
        if data.get("fulfilment") == Fulfilment.PICKUP and not data.get("pickup_store"):
            self.add_error("pickup_store", "Choose the store she collects it at.")
        if self.known_customer is None:
            if not (data.get("email", "").strip() or data.get("phone", "").strip()):
                raise ValidationError("Enter the customer’s e-mail address or phone number.")
            if not data.get("last_name", "").strip():
                self.add_error("last_name", "Enter the customer’s last name.")
        return data

    def identity(self) -> Identity:
        customer = self.known_customer
        if customer is None:
            data = self.cleaned_data
            return Identity(
                email=data["email"].strip(),
                phone=data["phone"].strip(),
                first_name=data["first_name"].strip(),
                last_name=data["last_name"].strip(),
            )
        points = {cp.kind: cp.value for cp in customer.contact_points.all()}
        kind = next((k for k in IDENTIFIER_ORDER if k in points), None)
        if kind is None:
            raise ValidationError(
                "This customer has no e-mail, phone or loyalty card on file: enter one to order."
            )
        value = points[kind]
        if kind == ContactKind.LOYALTY:
            return Identity(loyalty_number=value)
        if kind == ContactKind.EMAIL:
            return Identity(email=value)
        return Identity(phone=value)

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, field_messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, field_messages)


def _customer(request: HttpRequest) -> Customer | None:
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such customer.")
    # Her insight and its thresholds come with her record, for the cross-sell hint.
    customer = customer_with_insight(customer_id=int(raw))
    if customer is None or customer.merged_into_id:
        raise Http404("No such customer.")
    return customer


def _typed_lines(form: KioskOrderForm) -> list[tuple[str, int]]:
    """The SKUs and quantities typed so far, valid or not (a blank quantity is one)."""
    lines = []
    for sku_field, qty_field in form.lines:
        sku = (sku_field.value() or "").strip()
        raw = str(qty_field.value() or "1").strip()
        if sku:
            lines.append((sku, int(raw) if raw.isdigit() and int(raw) > 0 else 1))
    return lines


def _basket(form: KioskOrderForm, checks: list[StockCheck]) -> Decimal | None:
    """The catalogue value of the typed basket, from the products the stock check found."""
    prices = {check.sku.upper(): check.product.price for check in checks if check.product}
    known = [(prices[sku.upper()], qty) for sku, qty in _typed_lines(form) if sku.upper() in prices]
    return sum((price * qty for price, qty in known), Decimal("0")) if known else None


@store_counter
def kiosk_order(request: HtmxHttpRequest, store: Store) -> HttpResponse:
    """The order form. "Check stock" shows where each SKU is in stock and stores nothing; "Place
    the order" records a kiosk order of this store, reserving the stock at the pickup store.
    As the basket is typed, htmx asks for her insight against it (action "basket")."""
    customer = _customer(request)
    if request.htmx and request.POST.get("action") == "basket" and customer is not None:
        typed = KioskOrderForm(request.POST, customer=customer)
        return render(
            request,
            "customers/_insights.html",
            {
                "panel": insight_panel_for(
                    customer, basket_total=basket_total(lines=_typed_lines(typed))
                ),
                "variant": "counter",
            },
        )
    status = 200
    if request.method == "POST":
        form = KioskOrderForm(request.POST, customer=customer)
        if request.POST.get("action") == "place" and form.is_valid():
            checks = selectors.stock_checks(skus=[line.sku for line in form.line_inputs])
            canonical = {check.sku.upper(): check.sku for check in checks if check.product}
            unknown = [c.sku for c in checks if c.product is None]
            for n in range(1, LINE_COUNT + 1):
                if (form.cleaned_data.get(f"sku_{n}") or "").strip() in unknown:
                    form.add_error(f"sku_{n}", "No product has this SKU.")
            try:
                if unknown:
                    raise ValidationError(f"Unknown SKU: {', '.join(unknown)}.")
                pickup = form.cleaned_data["fulfilment"] == Fulfilment.PICKUP
                order = order_record(
                    identity=form.identity(),
                    channel=Channel.KIOSK,
                    store=store,
                    lines=[
                        LineInput(sku=canonical[line.sku.upper()], quantity=line.quantity)
                        for line in form.line_inputs
                    ],
                    fulfilment=form.cleaned_data["fulfilment"],
                    pickup_store=form.cleaned_data["pickup_store"] if pickup else None,
                    actor=cast(User, request.user),
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(
                    request,
                    f"Order {order.number} placed"
                    + (
                        f" for pickup at {order.pickup_store.name}."
                        if order.pickup_store
                        else " to ship to the customer’s home."
                    ),
                )
                return redirect(order)
        if request.POST.get("action") == "place":
            status = 400
        else:
            # Checking stock is not a submission: don't show required-field errors yet.
            form.errors.clear()
    else:
        form = KioskOrderForm(customer=customer, initial={"pickup_store": store})
    if "pickup_store" in form.errors:
        form.fields["pickup_store"].widget.attrs.update(
            {"class": "form-select is-invalid", "aria-describedby": "pickup-store-error"}
        )
    checks = selectors.stock_checks(skus=form.entered_skus())
    return render(
        request,
        "stores/orders/new.html",
        {
            "store": store,
            "form": form,
            "customer": customer,
            "insight": insight_panel_for(customer, basket_total=_basket(form, checks))
            if customer is not None
            else None,
            "checks": checks,
            # The store at the counter, highlighted in each stock table.
            "own_store_ids": {store.pk},
        },
        status=status,
    )
