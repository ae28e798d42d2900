from django.contrib import admin

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
    """Read-only view; customers are created and merged through their services."""

    list_display = ["id", "first_name", "last_name", "city", "home_store", "merged_into"]
    search_fields = ["search_name", "contact_points__value"]
    list_select_related = ["home_store"]
    inlines = [ContactPointInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
