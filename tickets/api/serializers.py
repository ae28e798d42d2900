"""Serializers of the inquiries endpoints."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.permissions import token_of
from crm.api.serializers import StrictSerializer
from crm.models import Channel
from customers.api.serializers import StoreCodeField, StringField
from orders.models import Order
from tickets.models import SUBJECT_MAX_LENGTH, Inquiry, InquiryStatus, Message, MessageKind
from tickets.services.inquiries import TEXT_MAX_LENGTH

# "chat" is not a CRM channel: a chat transcript is stored as a web form inquiry.
CHAT = "chat"
INQUIRY_API_CHANNELS = {
    Channel.WEB_FORM: "Web form",
    Channel.PHONE: "Phone (a call an employee or the phone system logs)",
    Channel.PORTAL: "Customer portal",
    Channel.STORE: "Store (reported at a store: give store)",
    CHAT: "Chat transcript (stored as web_form, the transcript as its text)",
}
MESSAGE_API_CHANNELS = {**INQUIRY_API_CHANNELS, Channel.EMAIL: "E-mail"}


def stored_channel(channel: str) -> str:
    return Channel.WEB_FORM if channel == CHAT else channel


def tracking_url(inquiry: Inquiry) -> str:
    return f"{settings.CRM_SITE_URL}{inquiry.get_tracking_url()}"


class InquiryCreateSerializer(StrictSerializer):
    channel = serializers.ChoiceField(
        choices=list(INQUIRY_API_CHANNELS.items()),
        help_text="Where the inquiry comes from. There is no chat channel in the CRM: send a "
        "chat transcript with channel chat and the transcript as text; it is stored as a "
        "web_form inquiry.",
    )
    customer = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="Her customer id, if known; or give identity.",
    )
    email = StringField(max_length=254, required=False, allow_blank=True)
    phone = StringField(max_length=32, required=False, allow_blank=True)
    first_name = StringField(max_length=100, required=False, allow_blank=True)
    last_name = StringField(max_length=100, required=False, allow_blank=True)
    subject = StringField(max_length=SUBJECT_MAX_LENGTH, required=False, allow_blank=True)
    text = StringField(
        max_length=TEXT_MAX_LENGTH,
        help_text="Her question, the account of the call, or the chat transcript.",
    )
    order_number = StringField(
        max_length=32, required=False, allow_blank=True, help_text="One of her orders."
    )
    store = StoreCodeField(required=False, help_text="Store code; required for channel store.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        has_identity = any((attrs.get(name) or "").strip() for name in ("email", "phone"))
        if attrs.get("customer") is None and not has_identity:
            errors["customer"] = ["Give her customer id, or her e-mail address or phone number."]
        if attrs["channel"] == Channel.STORE and attrs.get("store") is None:
            errors["store"] = ["Say which store the inquiry was reported at."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class InquiryMessageCreateSerializer(StrictSerializer):
    channel = serializers.ChoiceField(
        choices=list(MESSAGE_API_CHANNELS.items()),
        help_text="Where she wrote; chat is stored as web_form.",
    )
    subject = StringField(max_length=SUBJECT_MAX_LENGTH, required=False, allow_blank=True)
    text = StringField(max_length=TEXT_MAX_LENGTH)
    from_name = StringField(max_length=200, required=False, allow_blank=True)


class InquirySummarySerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text='E.g. "R-10234".')
    status = serializers.ChoiceField(choices=InquiryStatus.choices, read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    store = serializers.SerializerMethodField()
    order_number = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField(
        help_text="The customer's page for following the inquiry (no sign-in needed)."
    )

    class Meta:
        model = Inquiry
        fields = [
            "reference",
            "status",
            "channel",
            "subject",
            "customer",
            "store",
            "order_number",
            "tracking_url",
            "created_at",
            "last_message_at",
            "resolved_at",
        ]
        read_only_fields = fields

    def get_store(self, inquiry: Inquiry) -> str | None:
        return inquiry.store.code if inquiry.store is not None else None

    def get_order_number(self, inquiry: Inquiry) -> str | None:
        return inquiry.order.number if inquiry.order is not None else None

    def get_tracking_url(self, inquiry: Inquiry) -> str:
        return tracking_url(inquiry)


class MessageSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(
        choices=MessageKind.choices,
        read_only=True,
        help_text="inbound (from her), outbound (our reply) or note (internal: shown to "
        "signed-in staff only, never to tokens).",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "kind", "channel", "from_name", "subject", "text", "created_at"]
        read_only_fields = fields


class InquiryDetailSerializer(InquirySummarySerializer):
    messages = serializers.SerializerMethodField()
    merged_into = serializers.SerializerMethodField(
        help_text="The reference of the inquiry this one was merged into, or null."
    )

    class Meta(InquirySummarySerializer.Meta):
        fields = [*InquirySummarySerializer.Meta.fields, "merged_into", "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, inquiry: Inquiry) -> list[dict[str, Any]]:
        messages = self.context.get("messages", [])
        return list(MessageSerializer(messages, many=True).data)

    def get_merged_into(self, inquiry: Inquiry) -> str | None:
        return inquiry.merged_into.reference if inquiry.merged_into is not None else None


class MessageLandedSerializer(serializers.Serializer):
    inquiry = InquirySummarySerializer(
        help_text="Where the message landed: this inquiry, the one it was merged into, or a new "
        "follow-up when this one was resolved too long ago."
    )
    message = MessageSerializer()
    follow_up = serializers.BooleanField(help_text="True when a new inquiry was opened.")


def token_may_read_notes(request: Any) -> bool:
    """Tokens are systems: they get public messages only. Signed-in staff see notes too."""
    return token_of(request) is None


def order_of(number: str) -> Order | None:
    return Order.objects.filter(number__iexact=number.strip()).first() if number.strip() else None
