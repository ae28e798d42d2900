"""Settings of the service desk in the admin (queues and their members, SLA targets, canned
responses). Inquiries, messages and knowledge-base articles are written by services: the admin
only shows them (articles are edited on the knowledge base's own pages)."""

import re

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.admin import ReadOnlyAdmin
from tickets.models import (
    REFERENCE_OFFSET,
    Article,
    CannedResponse,
    Inquiry,
    Message,
    Queue,
    QueueMembership,
    SlaPolicy,
)


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "is_available", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]


class SlaPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_default", "supervisor", "opens_at", "closes_at"]
    list_select_related = ["supervisor"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
    autocomplete_fields = ["supervisor"]
    inlines = [QueueMembershipInline, SlaPolicyInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "queue",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "business_hours",
    ]
    list_filter = ["queue", "priority", "business_hours"]
    list_select_related = ["queue"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "queue", "is_active"]
    list_filter = ["is_active", "queue"]
    list_select_related = ["queue"]
    search_fields = ["title", "body"]


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("kind", "channel", "author", "from_address", "subject", "text", "message_id")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Inquiry | None = None) -> bool:
        return False


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "customer", "channel", "status", "priority", "queue", "created_at"]
    list_filter = ["status", "channel", "priority", "queue"]
    list_select_related = ["customer", "queue"]
    search_fields = ["subject", "requester_email"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Inquiry], search_term: str
    ) -> tuple[QuerySet[Inquiry], bool]:
        # Staff quote references ("R-10234"), not ids.
        reference = re.fullmatch(r"#?R-(\d{1,12})", search_term.strip(), re.IGNORECASE)
        if reference:
            return queryset.filter(pk=int(reference[1]) - REFERENCE_OFFSET), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["inquiry", "kind", "channel", "from_address", "created_at"]
    list_filter = ["kind", "channel"]
    list_select_related = ["inquiry"]
    search_fields = ["message_id", "from_address", "subject"]
    date_hierarchy = "created_at"


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["title", "category", "is_published", "deflection_count", "updated_at"]
    list_filter = ["is_published", "category"]
    search_fields = ["title", "slug"]
    date_hierarchy = "updated_at"
    fields = [
        "title",
        "slug",
        "category",
        "is_published",
        "published_at",
        "body",
        "deflection_count",
        "author",
        "updated_by",
        "created_at",
        "updated_at",
    ]
