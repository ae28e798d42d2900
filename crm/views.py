"""The landing page of each role, the customer's own account page and the health check."""

from typing import cast

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import defaults

from crm.models import User
from crm.permissions import is_staff_member
from crm.services import audit_record
from customers.export import customer_export
from customers.models import Customer
from orders.selectors import orders_of_customer_user
from tickets.selectors.customer import recent_inquiries


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if is_staff_member(request.user):
        return redirect("customers:search")
    return redirect("account_home")


@login_required
def account_home(request: HttpRequest) -> HttpResponse:
    """A customer's own page: her orders in every channel and her latest inquiries."""
    customer = Customer.objects.filter(user=cast(User, request.user)).first()
    orders = orders_of_customer_user(customer_id=customer.pk) if customer else []
    inquiries = recent_inquiries(customer=customer) if customer else []
    return render(
        request,
        "crm/account_home.html",
        {"customer": customer, "orders": orders, "inquiries": inquiries},
    )


@login_required
def account_data(request: HttpRequest) -> HttpResponse:
    """A customer's own data, all of it, as a JSON download; recorded in the audit log."""
    customer = Customer.objects.filter(user=cast(User, request.user)).first()
    if customer is None:
        raise Http404("No customer record is linked to this account.")
    audit_record(actor=cast(User, request.user), action="customer.export", obj=customer)
    response = JsonResponse(customer_export(customer), json_dumps_params={"indent": 2})
    filename = f"my-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def bench_floor(request: HttpRequest) -> HttpResponse:
    """The cheapest answer the stack gives, with no database or template: benchmarks measure
    every page against it."""
    return HttpResponse(b"ok\n", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the API answers in its JSON error shape, every other page with the 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": {
                    "status": 404,
                    "code": "not_found",
                    "message": "No such endpoint or object.",
                    "fields": {},
                }
            },
            status=404,
        )
    return defaults.page_not_found(request, exception)
