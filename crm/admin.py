from typing import Any, cast

from allauth.account.decorators import secure_admin_login
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.models import (
    WEBHOOK_URL_MAX_LENGTH,
    AuditEntry,
    Channel,
    IntegrationToken,
    OutboundEmail,
    OutboundEmailStatus,
    Scope,
    User,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from crm.services import audit_entry, audit_record, email_resend, token_create, token_revoke
from crm.webhooks import webhook_endpoint_create, webhook_endpoint_update, webhook_resend


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by a service (which locks, audits and puts them on the timeline): the admin
    only looks."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Form fields whose values the audit log never holds, only that they changed.
AUDIT_SECRET_FIELDS = {"password", "password1", "password2"}


def _audit_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set | QuerySet):
        return sorted(str(item) for item in value)
    return str(value)


def form_changes(form: forms.BaseForm) -> dict[str, Any]:
    """What a submitted admin form changed, field by field: {"before": …, "after": …}."""
    return {
        name: {"changed": True}
        if name in AUDIT_SECRET_FIELDS
        else {
            "before": _audit_value(form.initial.get(name)),
            "after": _audit_value(form.cleaned_data.get(name)),
        }
        for name in form.changed_data
    }


class AuditedAdmin(admin.ModelAdmin):
    """Records changed by hand in the admin (staff, roles, stores and who works there): each
    change goes into the audit log with its before and after, each inline row too."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=cast(User, request.user),
            action=f"{obj._meta.model_name}.{'change' if change else 'create'}",
            obj=obj,
            data={"via": "admin", "changes": form_changes(form)},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=cast(User, request.user),
            action=f"{obj._meta.model_name}.delete",
            obj=obj,
            data={"via": "admin", "was": str(obj)},
        )
        super().delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        deleted = {inline.instance.pk: str(inline.instance) for inline in formset.deleted_forms}
        super().save_formset(request, form, formset, change)
        for inline in formset.forms:
            if inline.instance.pk is None or not inline.has_changed():
                continue
            if inline in formset.deleted_forms:
                continue
            verb = "change" if inline.initial else "create"
            audit_record(
                actor=cast(User, request.user),
                action=f"{inline.instance._meta.model_name}.{verb}",
                obj=inline.instance,
                data={"via": "admin", "changes": form_changes(inline), "of": str(form.instance)},
            )
        for pk, was in deleted.items():
            entry = audit_entry(
                actor=cast(User, request.user),
                action=f"{formset.model._meta.model_name}.delete",
                obj=form.instance,
                data={"via": "admin", "was": was},
            )
            entry.object_type, entry.object_id = formset.model._meta.label_lower, str(pk)
            entry.save()


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
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
    list_display = ["occurred_at", "actor", "action", "object_type", "object_id", "ip"]
    list_filter = [("occurred_at", admin.DateFieldListFilter), "action", "object_type"]
    search_fields = ["object_id", "actor__email", "action"]
    list_select_related = ["actor"]
    show_full_result_count = False


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
        # The admin's own "was added" message and redirect use this instance.
        obj.pk, obj.prefix = token.pk, token.prefix
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


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=WEBHOOK_URL_MAX_LENGTH,
        validators=[URLValidator(schemes=["http", "https"])],
        assume_scheme="https",
        help_text="Where the events are POSTed (http or https).",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, required=True
    )
    new_secret = forms.BooleanField(
        required=False,
        label="Generate a new secret",
        help_text="The receiver must then be given the new secret to check signatures.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """URLs that are sent the events they subscribed to. Each gets a generated secret, shown here:
    the receiver needs it to check the X-CRM-Signature header. Endpoints are deactivated, not
    deleted, so that their delivery log stays."""

    form = WebhookEndpointForm
    list_display = ["url", "description", "event_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["url", "description", "events", "is_active"]
        return ["url", "description", "events", "is_active", "secret", "new_secret",
                "created_by", "created_at"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["secret", "created_by", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "url": data["url"],
            "events": data["events"],
            "description": data["description"],
            "is_active": data["is_active"],
            "actor": request.user,
        }
        if change:
            endpoint = webhook_endpoint_update(
                endpoint=obj, new_secret=data["new_secret"], **fields
            )
        else:
            endpoint = webhook_endpoint_create(**fields)
        obj.pk = endpoint.pk
        obj.secret = endpoint.secret
        if not change or data["new_secret"]:
            self.message_user(
                request,
                f"Secret of {endpoint.url}: {endpoint.secret} — give it to the receiver to "
                "check the X-CRM-Signature header (it stays visible on this endpoint's page).",
                messages.WARNING,
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The webhook outbox, read-only: deliveries are written with their event. Each shows the
    receiver's last answer; failed ones can be sent again."""

    list_display = [
        "created_at", "event", "endpoint", "status", "attempts", "last_status_code",
        "delivered_at",
    ]  # fmt: skip
    list_filter = ["status", "event", "endpoint"]
    search_fields = ["event_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    fields = [
        "endpoint", "event", "event_id", "status", "attempts", "last_status_code", "last_error",
        "next_attempt_at", "created_at", "delivered_at", "payload",
    ]  # fmt: skip

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("crm.change_webhookdelivery")

    @admin.action(description="Re-send", permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        sent, refused = 0, []
        for delivery in queryset.filter(status=WebhookDeliveryStatus.FAILED):
            try:
                webhook_resend(delivery=delivery, actor=request.user)  # type: ignore[arg-type]
            except ValidationError as error:
                refused.append(f"#{delivery.pk}: {' '.join(error.messages)}")
            else:
                sent += 1
        self.message_user(request, f"{sent} failed delivery(ies) queued to be sent again.")
        skipped = queryset.exclude(status=WebhookDeliveryStatus.FAILED).count()
        if skipped:
            self.message_user(
                request,
                f"{skipped} delivery(ies) skipped: only failed deliveries are sent again.",
                messages.WARNING,
            )
        for message in refused:
            self.message_user(request, message, messages.WARNING)


# The admin has no sign-in form of its own: /admin/login/ sends visitors to the site's sign-in
# page, which is rate-limited (ACCOUNT_RATE_LIMITS) and knows the staff's second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
