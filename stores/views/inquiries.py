"""In-store reports: an associate records what a customer tells the store about a problem or a
question, as an inquiry the service team answers; she gets the usual acknowledgement by e-mail."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crm.models import Channel, User
from crm.permissions import store_counter
from customers.services import Identity
from orders.models import Order
from stores.models import Store
from tickets.services.inquiries import IncomingMessage, inquiry_open

TEXT_MAX_LENGTH = 10_000


class StoreReportForm(forms.Form):
    email = forms.EmailField(max_length=254, required=False, label="E-mail")
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    order_number = forms.CharField(max_length=40, required=False, label="Order number")
    subject = forms.CharField(max_length=200, label="Subject")
    text = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label="What the customer reports",
        widget=forms.Textarea,
        error_messages={"required": "Write down what the customer reports."},
    )

    def clean_order_number(self) -> Order | None:
        number = self.cleaned_data["order_number"].strip()
        if not number:
            return None
        order = Order.objects.filter(number__iexact=number).first()
        if order is None:
            raise ValidationError("No order has this number.")
        return order

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("email") or data.get("phone", "").strip()):
            raise ValidationError("Enter the customer’s e-mail address or phone number.")
        return data

    def identity(self) -> Identity:
        data = self.cleaned_data
        return Identity(
            email=data["email"],
            phone=data["phone"].strip(),
            first_name=data["first_name"].strip(),
            last_name=data["last_name"].strip(),
        )


@store_counter
def store_inquiry_new(request: HttpRequest, store: Store) -> HttpResponse:
    """Record a customer's report at the store; the service team answers it like any inquiry."""
    status = 200
    if request.method == "POST":
        form = StoreReportForm(request.POST)
        if form.is_valid():
            try:
                inquiry = inquiry_open(
                    channel=Channel.STORE,
                    identity=form.identity(),
                    subject=form.cleaned_data["subject"],
                    message=IncomingMessage(text=form.cleaned_data["text"]),
                    order=form.cleaned_data["order_number"],
                    store=store,
                    actor=cast(User, request.user),
                )
            except ValidationError as error:
                _service_errors(form, error)
            else:
                told = (
                    f"an acknowledgement goes to {inquiry.requester_email}"
                    if inquiry.acknowledgement_id
                    else "she has no e-mail address on file: give her the reference"
                )
                messages.success(request, f"Inquiry {inquiry.reference} recorded; {told}.")
                return redirect("stores:inquiry_new", store.code)
        status = 400
    else:
        form = StoreReportForm()
    return render(
        request, "stores/inquiries/new.html", {"store": store, "form": form}, status=status
    )


def _service_errors(form: forms.Form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)
