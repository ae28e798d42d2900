from django.contrib import admin

from crm.admin import ReadOnlyAdmin
from orders.models import (
    Category,
    Order,
    OrderLine,
    Pickup,
    PickupEvent,
    Product,
    Refund,
    Return,
    ReturnLine,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["sku", "name"]
    list_select_related = ["category"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ["product", "sku", "name", "quantity", "unit_price", "line_total"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: orders are recorded through the order service so the timeline stays true."""

    list_display = ["number", "customer", "channel", "store", "status", "total", "placed_at"]
    list_filter = ["channel", "status", "store"]
    search_fields = ["number", "external_id"]
    list_select_related = ["customer", "store"]
    inlines = [OrderLineInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PickupEventInline(admin.TabularInline):
    model = PickupEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "actor", "note", "occurred_at"]
    can_delete = False


@admin.register(Pickup)
class PickupAdmin(ReadOnlyAdmin):
    """Read-only: a pickup moves only through the pickup status service, which keeps its events,
    the customer's timeline and the stock in step."""

    list_display = ["order", "store", "status", "created_at", "hold_until", "collected_at"]
    list_filter = ["status", "store"]
    search_fields = ["order__number"]
    list_select_related = ["order", "store"]
    readonly_fields = ["code"]
    inlines = [PickupEventInline]


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    fields = readonly_fields = ("order_line", "quantity", "reason", "condition", "refund_amount")
    can_delete = False


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    """Read-only: a return moves stock, money and the timeline together, through its service."""

    list_display = ["number", "order", "customer", "store", "channel", "status", "refund_total"]
    list_filter = ["status", "channel", "store"]
    search_fields = ["number", "order__number"]
    list_select_related = ["order", "customer", "store"]
    inlines = [ReturnLineInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Read-only: refunds are recorded by the return and pickup services."""

    list_display = ["order", "kind", "amount", "method", "return_request", "created_at"]
    list_filter = ["kind", "method"]
    search_fields = ["order__number", "return_request__number"]
    list_select_related = ["order", "return_request"]
