"""Input and output of the marketing-touch and web-activity endpoints. Input serializers only
validate shapes (unknown fields, types, lengths, ranges); the services decide the rest."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from crm.api.serializers import EventTimeField, StrictSerializer
from customers.engagement import TOUCH_EVENTS, CartItem
from customers.models import (
    EXTERNAL_ID_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    Cart,
    CheckoutStep,
    OfferType,
    Touch,
    TouchChannel,
    Visit,
    VisitSource,
)
from customers.services import Identity

SKU_MAX_LENGTH = 32
ORDER_NUMBER_MAX_LENGTH = 32
CART_MAX_ITEMS = 500


class IdentitySerializer(StrictSerializer):
    """Identifiers of the customer; at least one. An unknown person becomes a new customer."""

    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    loyalty_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    external_ids = serializers.DictField(
        child=serializers.CharField(max_length=EXTERNAL_ID_MAX_LENGTH),
        required=False,
        help_text='Ids in other systems by system name, e.g. {"webshop": "88123"}.',
    )
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate_external_ids(self, value: dict[str, str]) -> dict[str, str]:
        for system in value:
            if not system or len(system) > SOURCE_MAX_LENGTH:
                raise serializers.ValidationError(
                    f"A system name has 1 to {SOURCE_MAX_LENGTH} characters."
                )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(
            attrs.get(name) for name in ("email", "phone", "loyalty_number", "external_ids")
        ):
            raise serializers.ValidationError(
                "An e-mail address, phone number, loyalty card number or external id is needed."
            )
        return attrs


class CustomerRefSerializer(StrictSerializer):
    """Names the customer by `customer` (her id) or by `identity`, not both."""

    customer = serializers.IntegerField(
        min_value=1, required=False, help_text="The customer's id in the CRM."
    )
    identity = IdentitySerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("customer" in attrs) == ("identity" in attrs):
            raise serializers.ValidationError(
                {"customer": ["Give either customer (an id) or identity."]}
            )
        if "identity" in attrs:
            attrs["identity"] = Identity(**attrs["identity"])
        return attrs


class TouchInputSerializer(CustomerRefSerializer):
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=SOURCE_MAX_LENGTH, help_text="The system that sent the offer, e.g. 'mailer'."
    )
    external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        help_text="The touch's id in that system; the same id sent again is the same touch.",
    )
    offer_type = serializers.ChoiceField(choices=OfferType.choices)
    offer_value = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Percent for percent_off, amount for amount_off.",
    )
    channel = serializers.ChoiceField(choices=TouchChannel.choices)
    sent_at = EventTimeField(required=False)
    campaign = serializers.CharField(max_length=100, required=False, allow_blank=True)
    promotion_code = serializers.CharField(max_length=64, required=False, allow_blank=True)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)


class TouchEventInputSerializer(StrictSerializer):
    event = serializers.ChoiceField(choices=[(event, event) for event in TOUCH_EVENTS])
    at = EventTimeField(required=False, help_text="When it happened; default now.")
    order = serializers.CharField(
        max_length=ORDER_NUMBER_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="For redeemed: the number of the order the offer was used on.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("order") and attrs["event"] != "redeemed":
            raise serializers.ValidationError({"order": ["Only a redemption names an order."]})
        return attrs


class VisitInputSerializer(CustomerRefSerializer):
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=VisitSource.choices, help_text="What brought the customer to the web shop."
    )
    occurred_at = EventTimeField(required=False)
    referrer = serializers.CharField(max_length=500, required=False, allow_blank=True)
    campaign = serializers.CharField(max_length=100, required=False, allow_blank=True)
    landing_page = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WishListInputSerializer(CustomerRefSerializer):
    action = serializers.ChoiceField(choices=[("add", "add"), ("remove", "remove")])
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    at = EventTimeField(required=False)


class CartItemSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=10000)
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, help_text="Unit price."
    )

    def validate(self, attrs: dict[str, Any]) -> CartItem:
        return CartItem(**attrs)


class CartAbandonedInputSerializer(CustomerRefSerializer):
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=SOURCE_MAX_LENGTH, help_text="The system of the cart, e.g. 'webshop'."
    )
    external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH, help_text="The cart's id in that system."
    )
    items = CartItemSerializer(many=True, allow_empty=False, max_length=CART_MAX_ITEMS)  # type: ignore[call-arg]
    step = serializers.ChoiceField(
        choices=CheckoutStep.choices, help_text="The checkout step where the cart was left."
    )
    abandoned_at = EventTimeField(required=False)
    value = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="The cart's value; default the sum of the items.",
    )


class CartRecoveredInputSerializer(StrictSerializer):
    source = serializers.CharField(max_length=SOURCE_MAX_LENGTH)  # type: ignore[assignment]
    order = serializers.CharField(
        max_length=ORDER_NUMBER_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="The number of the order the cart became.",
    )
    at = EventTimeField(required=False)


# Bulk web activity: each item says its "type".


class VisitItemSerializer(VisitInputSerializer):
    type = serializers.ChoiceField(choices=[("visit", "visit")])


class WishListItemInputSerializer(WishListInputSerializer):
    type = serializers.ChoiceField(choices=[("wishlist", "wishlist")])


class CartAbandonedItemSerializer(CartAbandonedInputSerializer):
    type = serializers.ChoiceField(choices=[("cart_abandoned", "cart_abandoned")])


class CartRecoveredItemSerializer(CartRecoveredInputSerializer):
    type = serializers.ChoiceField(choices=[("cart_recovered", "cart_recovered")])
    external_id = serializers.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)


WEB_ACTIVITY_TYPES: dict[str, type[serializers.Serializer]] = {
    "visit": VisitItemSerializer,
    "wishlist": WishListItemInputSerializer,
    "cart_abandoned": CartAbandonedItemSerializer,
    "cart_recovered": CartRecoveredItemSerializer,
}


class WebActivityItemSerializer(serializers.Serializer):
    """One item of a web-activity bulk request, validated by the serializer of its type."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["Expected an object."]})
        kind = data.get("type")
        if not isinstance(kind, str) or kind not in WEB_ACTIVITY_TYPES:
            raise serializers.ValidationError(
                {"type": [f"One of: {', '.join(WEB_ACTIVITY_TYPES)}."]}
            )
        serializer = WEB_ACTIVITY_TYPES[kind](data=data, context=self.context)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class BulkInputSerializer(StrictSerializer):
    items = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=1000, help_text="Up to 1,000."
    )


class TouchBulkInputSerializer(StrictSerializer):
    items = TouchInputSerializer(many=True, min_length=1, max_length=1000)  # type: ignore[call-arg]


# Output


class TouchSerializer(serializers.ModelSerializer):
    redeemed_order = serializers.CharField(
        source="redeemed_order.number",
        allow_null=True,
        read_only=True,
        help_text="The number of the order the offer was redeemed on.",
    )

    class Meta:
        model = Touch
        fields = (
            "id",
            "customer",
            "source",
            "external_id",
            "campaign",
            "promotion_code",
            "offer_type",
            "offer_value",
            "description",
            "channel",
            "sent_at",
            "opened_at",
            "clicked_at",
            "redeemed_at",
            "redeemed_order",
            "created_at",
        )
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Visit
        fields = (
            "id",
            "customer",
            "occurred_at",
            "source",
            "referrer",
            "campaign",
            "landing_page",
        )
        read_only_fields = fields


class WishListEntrySerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    added_at = serializers.DateTimeField()


class WishListSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    changed = serializers.BooleanField(
        help_text="False when the product already was (or was not) on the list."
    )
    items = WishListEntrySerializer(many=True, help_text="The wish list now, newest first.")


class CartItemOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)


class CartSerializer(serializers.ModelSerializer):
    items = CartItemOutputSerializer(many=True, read_only=True)
    recovered_order = serializers.CharField(
        source="recovered_order.number", allow_null=True, read_only=True
    )

    class Meta:
        model = Cart
        fields = (
            "id",
            "customer",
            "source",
            "external_id",
            "items",
            "value",
            "abandoned_at",
            "abandoned_step",
            "recovered_at",
            "recovered_order",
        )
        read_only_fields = fields


class BulkItemErrorSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "code": serializers.CharField(),
            "message": serializers.CharField(required=False),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()), required=False
            ),
        }


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField(help_text="201 stored, 200 already known, 4xx refused.")
    data = serializers.DictField(required=False, help_text="The stored item, as the single call.")  # type: ignore[assignment]
    error = BulkItemErrorSerializer(required=False)


class BulkResponseSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True)
