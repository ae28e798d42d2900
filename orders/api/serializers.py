"""Serializers of the orders, pickups and returns endpoints: strict input (unknown fields, wrong
types, over-long strings, zero or negative quantities, unknown SKUs and stores are 400s with field
messages) and the rendered records."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import EventTimeField, StrictSerializer
from crm.models import Channel
from customers.services import Identity
from orders.models import (
    Fulfilment,
    ItemCondition,
    Order,
    OrderLine,
    Pickup,
    PickupStatus,
    Product,
    RefundMethod,
    Return,
    ReturnLine,
    ReturnReason,
)
from orders.services.orders import LineInput
from orders.services.status import SETTABLE
from stores.models import Store

SALES_CHANNELS = (Channel.WEB, Channel.STORE, Channel.PHONE, Channel.KIOSK)
MAX_LINES = 200
MAX_QUANTITY = 10_000


def money(**kwargs: Any) -> serializers.DecimalField:
    """An amount of money: at most 99,999,999.99, never negative."""
    return serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), **kwargs
    )


class StoreCodeField(serializers.CharField):
    """A store by its code ("st01"); an unknown code is a field error."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Store | None:
        # The code is checked as text first (type, length), then looked up.
        code = super().run_validation(data)
        if not code:
            return None
        store = Store.objects.filter(code=code).first()
        if store is None:
            raise serializers.ValidationError(f"No store has the code “{code}”.")
        return store

    def to_representation(self, value: Any) -> str:
        return value.code if isinstance(value, Store) else str(value)


class CustomerIdentitySerializer(StrictSerializer):
    """Who bought, as the sending system knows her: at least one identifier. The order lands on
    the customer that identity resolution finds (or makes)."""

    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    loyalty_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    external_ids = serializers.DictField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text='Her ids in other systems, e.g. {"webshop": "C-1001"}.',
    )
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)

    def validate_external_ids(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 10 or any(len(system) > 32 or not system for system in value):
            raise serializers.ValidationError("At most 10 ids, each system name 1 to 32 long.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(
            attrs.get(name) for name in ("email", "phone", "loyalty_number", "external_ids")
        ):
            raise serializers.ValidationError(
                "Give at least one of email, phone, loyalty_number or external_ids."
            )
        return attrs


class OrderLineInputSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = money(
        required=False, help_text="The price charged; the catalogue price when left out."
    )


class OrderCreateSerializer(StrictSerializer):
    number = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="The order number; given one from its id (W100231) when left out.",
    )
    external_source = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="The system that sent the order (e.g. webshop); required with external_id.",
    )
    external_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The order's id in that system: unique per system, so an order sent again is "
        "answered with the order already stored (200) and never stored twice.",
    )
    customer = CustomerIdentitySerializer()
    channel = serializers.ChoiceField(choices=SALES_CHANNELS)
    store = StoreCodeField(
        required=False,
        allow_blank=True,
        help_text="The store of a store or kiosk sale (required for those channels).",
    )
    fulfilment = serializers.ChoiceField(
        choices=Fulfilment.choices,
        required=False,
        help_text="ship, pickup or carry_out; a store sale is carried out, others ship by default.",
    )
    pickup_store = StoreCodeField(
        required=False, allow_blank=True, help_text="Where a pick-up order is collected."
    )
    placed_at = EventTimeField(required=False)
    shipping = money(required=False)
    tax = money(required=False)
    lines = serializers.ListField(
        child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A bulk request reads the products of all its orders once (context "catalogue").
        skus = {line["sku"] for line in lines}
        known = skus & self.context.get("catalogue", {}).keys()
        if skus - known:
            known |= set(Product.objects.filter(sku__in=skus - known).values_list("sku", flat=True))
        errors: dict[str, Any] = {
            str(index): {"sku": [f"No product has the SKU “{line['sku']}”."]}
            for index, line in enumerate(lines)
            if line["sku"] not in known
        }
        if errors:
            raise serializers.ValidationError(errors)
        return lines

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("external_id") and not attrs.get("external_source"):
            raise serializers.ValidationError(
                {"external_source": ["Name the system the external id belongs to."]}
            )
        return attrs


def order_record_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of orders.services.order_record for validated input."""
    customer = data["customer"]
    arguments: dict[str, Any] = {
        "identity": Identity(**customer),
        "channel": data["channel"],
        "lines": [
            LineInput(sku=line["sku"], quantity=line["quantity"], unit_price=line.get("unit_price"))
            for line in data["lines"]
        ],
        "store": data.get("store"),
        "pickup_store": data.get("pickup_store"),
        "number": data.get("number", ""),
        "external_source": data.get("external_source", "") if data.get("external_id") else "",
        "external_id": data.get("external_id", ""),
        "fulfilment": data.get("fulfilment", ""),
    }
    for optional in ("placed_at", "shipping", "tax"):
        if optional in data:
            arguments[optional] = data[optional]
    return arguments


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "sku", "name", "quantity", "unit_price", "line_total"]


class PickupBriefSerializer(serializers.ModelSerializer):
    store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Pickup
        fields = ["id", "store", "status", "ready_at", "hold_until", "collected_at"]


class OrderSerializer(serializers.ModelSerializer):
    store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    pickup_store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    lines = OrderLineSerializer(many=True, read_only=True)
    pickup = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "customer",
            "channel",
            "store",
            "status",
            "fulfilment",
            "pickup_store",
            "placed_at",
            "currency",
            "subtotal",
            "shipping",
            "tax",
            "total",
            "external_source",
            "external_id",
            "lines",
            "pickup",
            "created_at",
        ]

    @extend_schema_field(PickupBriefSerializer(allow_null=True))
    def get_pickup(self, order: Order) -> dict[str, Any] | None:
        pickup = getattr(order, "pickup", None)
        return PickupBriefSerializer(pickup).data if pickup is not None else None


class OrderStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=[(value, value) for value in SETTABLE])
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PickupSerializer(serializers.ModelSerializer):
    store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    order: serializers.SlugRelatedField[Order] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    customer = serializers.IntegerField(source="order.customer_id", read_only=True)

    class Meta:
        model = Pickup
        fields = [
            "id",
            "order",
            "customer",
            "store",
            "status",
            "ready_at",
            "hold_until",
            "collected_at",
            "created_at",
            "updated_at",
        ]


PICKUP_MOVES = (PickupStatus.PREPARING, PickupStatus.READY, PickupStatus.CANCELLED)


class PickupStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(
        choices=[(value, value) for value in PICKUP_MOVES],
        help_text="preparing, ready (the customer is e-mailed the code) or cancelled (stock "
        "released, order refunded). Hand-over is /collect/.",
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PickupCollectSerializer(StrictSerializer):
    code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    id_check_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("code", "").strip() and not attrs.get("id_check_reason", "").strip():
            raise serializers.ValidationError(
                {"code": ["Give the customer's pickup code, or id_check_reason."]}
            )
        return attrs


class ReturnLineInputSerializer(StrictSerializer):
    line = serializers.IntegerField(min_value=1, help_text="The order line's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    condition = serializers.ChoiceField(
        choices=ItemCondition.choices, required=False, default=ItemCondition.RESELLABLE
    )


class ReturnCreateSerializer(StrictSerializer):
    order = serializers.CharField(max_length=32, help_text="The order's number.")
    store = StoreCodeField(help_text="The store where the items are taken back.")
    refund_method = serializers.ChoiceField(
        choices=RefundMethod.choices, required=False, default=RefundMethod.ORIGINAL_PAYMENT
    )
    lines = serializers.ListField(
        child=ReturnLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )

    def validate_order(self, number: str) -> Order:
        order = Order.objects.filter(number=number).select_related("customer").first()
        if order is None:
            raise serializers.ValidationError(f"No order has the number “{number}”.")
        return order

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        order: Order = attrs["order"]
        by_id = {line.pk: line for line in order.lines.all()}
        errors: dict[str, Any] = {
            str(index): {"line": [f"Order {order.number} has no line {line['line']}."]}
            for index, line in enumerate(attrs["lines"])
            if line["line"] not in by_id
        }
        if errors:
            raise serializers.ValidationError({"lines": errors})
        attrs["order_lines"] = [
            (by_id[line["line"]], line["quantity"], line["reason"], line["condition"])
            for line in attrs["lines"]
        ]
        return attrs


class ReturnLineSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="order_line_id", read_only=True)
    sku = serializers.CharField(source="order_line.sku", read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["line", "sku", "quantity", "reason", "condition", "refund_amount"]


class ReturnSerializer(serializers.ModelSerializer):
    order: serializers.SlugRelatedField[Order] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    lines = ReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "number",
            "order",
            "customer",
            "channel",
            "store",
            "status",
            "refund_method",
            "refund_items",
            "refund_tax",
            "refund_shipping",
            "refund_total",
            "lines",
            "created_at",
            "completed_at",
        ]
