from typing import cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from crm.models import User
from crm.permissions import can_erase_customers
from customers.erasure import customer_erase
from customers.models import ContactPoint, Customer, CustomerInsight, InsightThresholds


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    readonly_fields = ["kind", "value", "source", "verified", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Read-only view; customers are created and merged through their services. An administrator
    may erase a customer's personal data, after a confirmation page."""

    list_display = [
        "id",
        "first_name",
        "last_name",
        "city",
        "home_store",
        "merged_into",
        "erased_at",
    ]
    search_fields = ["search_name", "contact_points__value"]
    list_select_related = ["home_store"]
    inlines = [ContactPointInline]
    actions = ["erase"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return can_erase_customers(request.user)

    @admin.action(
        description="Erase the personal data of the selected customers", permissions=["erase"]
    )
    def erase(self, request: HttpRequest, queryset: QuerySet[Customer]) -> TemplateResponse | None:
        customers = list(queryset.select_related("home_store"))
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/customers/customer/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Erase personal data?",
                    "opts": self.model._meta,
                    "customers": customers,
                    "selected": [customer.pk for customer in customers],
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        erased, refused = 0, list[str]()
        for customer in customers:
            try:
                customer_erase(customer=customer, actor=cast(User, request.user))
                erased += 1
            except ValidationError as error:
                refused.extend(f"{customer.full_name}: {message}" for message in error.messages)
        if erased:
            self.message_user(
                request, f"Personal data of {erased} customer(s) erased.", messages.SUCCESS
            )
        for message in refused:
            self.message_user(request, message, messages.WARNING)
        return None


@admin.register(CustomerInsight)
class CustomerInsightAdmin(admin.ModelAdmin):
    """Read-only: insights are recomputed from the history (manage.py rebuild_insights)."""

    list_display = [
        "customer",
        "order_count",
        "lifetime_value",
        "average_order_total",
        "open_inquiries",
        "computed_at",
    ]
    list_select_related = ["customer"]
    search_fields = ["customer__search_name"]
    readonly_fields = [field.name for field in CustomerInsight._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InsightThresholds)
class InsightThresholdsAdmin(admin.ModelAdmin):
    """Read-only here: supervisors set them on the insight settings page, which audits them."""

    list_display = ["__str__", "updated_at", "updated_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
