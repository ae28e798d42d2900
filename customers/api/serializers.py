"""Serializers of the customers endpoints: strict input (unknown fields, wrong types and
over-long strings are 400s with field messages) and the rendered customer record."""

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.permissions import token_of
from crm.api.serializers import StrictSerializer
from crm.models import Channel
from customers.models import Activity, ActivityKind, ContactKind, ContactPoint, Customer
from stores.models import Store

EXTERNAL_IDS_MAX = 10
EXTERNAL_SYSTEM_MAX_LENGTH = 40
EXTERNAL_ID_MAX_LENGTH = 100
SEARCH_QUERY_MAX_LENGTH = 200


class StringField(serializers.CharField):
    """A CharField that takes strings only: a number or a list is a wrong type, not coerced."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "maxLength": 16, "example": "st01"})
class StoreCodeField(serializers.Field):
    """A store by its code ("st01"); an unknown code is a field error, blank means none."""

    default_error_messages = {
        "invalid": "Not a valid string.",
        "max_length": "Ensure this field has no more than {max_length} characters.",
        "unknown": "Unknown store {code!r}.",
    }
    max_length = 16

    def to_internal_value(self, data: Any) -> Store | None:
        if not isinstance(data, str):
            self.fail("invalid")
        code = data.strip()
        if len(code) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        if not code:
            return None
        store = Store.objects.filter(code=code).first()
        if store is None:
            self.fail("unknown", code=code)
        return store

    def to_representation(self, value: Any) -> str:
        return value.code if isinstance(value, Store) else str(value)


class CustomerWriteSerializer(StrictSerializer):
    """Who she is, as the calling system knows her. At least one identifier is needed."""

    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="The channel the data comes from. Required for integration tokens (it must "
        "be one of the token's channels); staff sessions default to system.",
    )
    email = StringField(max_length=254, required=False, allow_blank=True)
    phone = StringField(max_length=32, required=False, allow_blank=True)
    loyalty_number = StringField(max_length=32, required=False, allow_blank=True)
    external_ids = serializers.DictField(
        child=StringField(max_length=EXTERNAL_ID_MAX_LENGTH),
        required=False,
        help_text='Ids in other systems by system name, e.g. {"webshop": "88123"}.',
    )
    first_name = StringField(max_length=100, required=False, allow_blank=True)
    last_name = StringField(max_length=100, required=False, allow_blank=True)
    address_line1 = StringField(max_length=200, required=False, allow_blank=True)
    city = StringField(max_length=100, required=False, allow_blank=True)
    postcode = StringField(max_length=20, required=False, allow_blank=True)
    country = StringField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166 code, e.g. DE."
    )
    store = StoreCodeField(
        required=False,
        help_text="Code of the store the data comes from; becomes her home store if she has none.",
    )

    def validate_external_ids(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > EXTERNAL_IDS_MAX:
            raise serializers.ValidationError(f"At most {EXTERNAL_IDS_MAX} external ids.")
        for system in value:
            if not system.strip() or len(system) > EXTERNAL_SYSTEM_MAX_LENGTH:
                raise serializers.ValidationError(
                    f"System names are 1 to {EXTERNAL_SYSTEM_MAX_LENGTH} characters."
                )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        if request is not None and token_of(request) is not None and not attrs.get("channel"):
            raise serializers.ValidationError(
                {"channel": ["Integration tokens must say which channel the data comes from."]}
            )
        if not any(
            (attrs.get(name) or "").strip() for name in ("email", "phone", "loyalty_number")
        ) and not attrs.get("external_ids"):
            raise serializers.ValidationError(
                "An e-mail address, phone number, loyalty card number or external id is needed "
                "to identify the customer."
            )
        return attrs


class ContactPointSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices)

    class Meta:
        model = ContactPoint
        fields = ["kind", "value", "source", "verified", "undeliverable_at"]


class CustomerSerializer(serializers.ModelSerializer):
    contact_points = ContactPointSerializer(many=True, read_only=True)
    home_store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    full_name = serializers.CharField(read_only=True)
    merged_into = serializers.SerializerMethodField(
        help_text="Set when the id asked for is a record that was merged: the id of the "
        "surviving record, which is the one shown. Null otherwise."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "first_name",
            "last_name",
            "full_name",
            "address_line1",
            "city",
            "postcode",
            "country",
            "home_store",
            "customer_since",
            "contact_points",
            "merged_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_merged_into(self, customer: Customer) -> int | None:
        requested = self.context.get("requested_id")
        return customer.pk if requested is not None and requested != customer.pk else None


class CustomerResultSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    created = serializers.BooleanField(help_text="True when a new customer record was made.")


class CustomerSearchQuerySerializer(StrictSerializer):
    q = StringField(
        max_length=SEARCH_QUERY_MAX_LENGTH,
        help_text="An e-mail, phone number, loyalty number, order number, external id "
        "(system:id), inquiry reference or words of her name.",
    )
    page = serializers.IntegerField(min_value=1, max_value=200, required=False, default=1)


class CustomerSearchSerializer(serializers.Serializer):
    results = CustomerSerializer(many=True)
    matched_by = serializers.CharField(
        help_text='What matched: "email", "phone", "loyalty card", "order number", '
        '"external id", "inquiry reference", "name", or "" for nothing.'
    )
    page = serializers.IntegerField()
    next = serializers.URLField(allow_null=True, help_text="The next page, for a name search.")


class TimelineQuerySerializer(StrictSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    cursor = StringField(
        max_length=100, required=False, help_text="next_cursor of the previous page."
    )
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False, default=25)

    def validate_cursor(self, value: str) -> str:
        moment, _, pk = value.rpartition("_")
        if not pk.isdigit() or parse_datetime(moment) is None:
            raise serializers.ValidationError("Not a cursor of this timeline.")
        return value


class ActivitySerializer(serializers.ModelSerializer):
    store: serializers.SlugRelatedField[Store] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    actor = serializers.SerializerMethodField(help_text="The employee's name, or null.")

    class Meta:
        model = Activity
        fields = [
            "id",
            "occurred_at",
            "kind",
            "channel",
            "store",
            "summary",
            "detail",
            "actor",
            "actor_role",
            "subject_type",
            "subject_id",
        ]
        read_only_fields = fields

    def get_actor(self, activity: Activity) -> str | None:
        actor = activity.actor
        return actor.get_full_name() or actor.email if actor is not None else None


class TimelineSerializer(serializers.Serializer):
    results = ActivitySerializer(many=True)
    next_cursor = serializers.CharField(
        help_text='Pass as cursor for older entries; "" at the end.'
    )
    next = serializers.URLField(allow_null=True)


class MergeRequestSerializer(StrictSerializer):
    merged = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="Id of the record merged into this one (it becomes an alias).",
    )


class MergeResultSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    merged = serializers.IntegerField()


class CustomerBulkSerializer(StrictSerializer):
    items = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=1000,
        help_text="Up to 1,000 customers, each shaped as the body of POST /customers/.",
    )


class CustomerBulkItemErrorSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "code": serializers.CharField(),
            "message": serializers.CharField(required=False),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()), required=False
            ),
        }


class CustomerBulkItemSerializer(serializers.Serializer):
    # Declared here: "data" is also the name of Serializer.data.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "index": serializers.IntegerField(),
            "status": serializers.IntegerField(help_text="201, 200, 400 or 403."),
            "data": CustomerResultSerializer(required=False, help_text="When stored."),
            "error": CustomerBulkItemErrorSerializer(required=False, help_text="When refused."),
        }


class CustomerBulkResultSerializer(serializers.Serializer):
    results = CustomerBulkItemSerializer(many=True)
