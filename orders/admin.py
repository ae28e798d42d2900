from django.contrib import admin

from orders.models import Category, Order, OrderLine, Product


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
