from django.contrib import admin

from stores.models import StaffMembership, Store


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "time_zone", "is_active"]
    search_fields = ["code", "name", "city"]
    inlines = [StaffMembershipInline]
