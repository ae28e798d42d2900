from django.contrib import admin

from crm.admin import AuditedAdmin, ReadOnlyAdmin
from stores.models import StaffMembership, StockLevel, StockMovement, Store


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Store)
class StoreAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "city", "time_zone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "city"]
    inlines = [StaffMembershipInline]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["product", "store", "on_hand", "reserved", "available", "updated_at"]
    list_filter = ["store"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "store"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "product",
        "store",
        "kind",
        "on_hand_change",
        "reserved_change",
        "on_hand_after",
        "reserved_after",
        "reference",
        "actor",
    ]
    list_filter = ["kind", "store"]
    search_fields = ["product__sku", "reference"]
    list_select_related = ["product", "store", "actor"]
    date_hierarchy = "occurred_at"
