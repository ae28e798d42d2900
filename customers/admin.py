from django.contrib import admin

from customers.models import ContactPoint, Customer


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
