"""Serializer pieces every app's API shares."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

# When something the API is told about can have happened: not before the retailer's systems could
# have recorded it, not more than a day ahead (a sender's clock running fast).
EARLIEST_EVENT = datetime(1990, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a misspelt field is an error, not silently lost."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class EventTimeField(serializers.DateTimeField):
    """When something happened (an order placed, an offer sent, a visit): from 1990 to now."""

    def to_internal_value(self, value: Any) -> datetime:
        moment: datetime = super().to_internal_value(value)
        if not EARLIEST_EVENT <= moment <= timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("Give a time between 1990 and now.")
        return moment
