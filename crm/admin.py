from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.models import (
    AuditEntry,
    Channel,
    IntegrationToken,
    OutboundEmail,
    OutboundEmailStatus,
    Scope,
    User,
)
from crm.services import email_resend, token_create, token_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by a service (which locks, audits and puts them on the timeline): the admin
    only looks."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "role", "time_zone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "role", "password1", "password2")}),
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id"]
    list_select_related = ["actor"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    """The outbox, read-only: e-mail is written by the services of its cause. Failed e-mail shows
    its last error and can be sent again."""

    list_display = ["created_at", "subject", "recipients", "status", "attempts", "sent_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["key", "subject", "to", "message_id"]
    list_select_related = ["customer"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    fields = [
        "key",
        "to",
        "subject",
        "customer",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "message_id",
        "headers",
        "text_body",
        "html_body",
    ]

    @admin.display(description="to")
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # Sending again changes the e-mail, so it takes the change permission the form doesn't use.
        return request.user.has_perm("crm.change_outboundemail")

    @admin.action(description="Send again", permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        failed = list(queryset.filter(status=OutboundEmailStatus.FAILED))
        for email in failed:
            email_resend(email=email, actor=request.user)  # type: ignore[arg-type]
        skipped = queryset.count() - len(failed)
        self.message_user(request, f"{len(failed)} failed e-mail(s) queued to be sent again.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} e-mail(s) skipped: only failed e-mail is sent again.",
                messages.WARNING,
            )


class IntegrationTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The channels whose orders, customers and inquiries it may write.",
    )

    class Meta:
        model = IntegrationToken
        fields = ["name", "scopes", "channels", "stores", "all_stores"]
        help_texts = {
            "all_stores": "Write for any store (a web shop with pickups everywhere). Otherwise "
            "only for the stores chosen above.",
        }


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    """Tokens are made here and shown once; afterwards they can only be looked at or revoked."""

    form = IntegrationTokenForm
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    filter_horizontal = ["stores"]

    @admin.display(description="scopes")
    def scope_list(self, obj: IntegrationToken) -> str:
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["name", "prefix", "scopes", "channels", "stores", "all_stores", "created_by",
                "created_at", "last_used_at", "revoked_at"]  # fmt: skip

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "scopes", "channels", "stores", "all_stores"]
        return self.get_readonly_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked tokens stay, for the audit trail

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        token, secret = token_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            channels=form.cleaned_data["channels"],
            stores=list(form.cleaned_data["stores"]),
            all_stores=form.cleaned_data["all_stores"],
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk = token.pk
        self.message_user(
            request,
            f"Token for {token.name}: {secret} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """token_create saved the stores already."""

    @admin.action(description="Revoke")
    def revoke(self, request: HttpRequest, queryset: QuerySet[IntegrationToken]) -> None:
        for token in queryset:
            token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{queryset.count()} token(s) revoked.")
