"""The supervisor's form for the insight flags' thresholds."""

from typing import Any

from django import forms

from customers.models import INSIGHT_THRESHOLD_FIELDS, InsightThresholds

# The form's sections: (title, what the flag means, its fields).
SECTIONS = (
    (
        "High maintenance",
        "Returns much of what she buys and needs service often: both rates above.",
        ("returns_rate_percent", "contacts_per_order"),
    ),
    ("Valuable", "Spent more than this, net of returns.", ("valuable_lifetime_value",)),
    (
        "At risk",
        "A regular customer who has gone quiet.",
        ("at_risk_min_orders", "at_risk_variation_percent", "at_risk_silence_factor"),
    ),
    (
        "Cross-sell fits",
        "The basket at the counter or in the order form is below her average order.",
        ("cross_sell_min_orders",),
    ),
    (
        "Offer most likely to work",
        "The offer type she redeems most often.",
        ("offer_min_sample",),
    ),
)
UNITS = {
    "returns_rate_percent": "%",
    "contacts_per_order": "per order",
    "valuable_lifetime_value": "$",
    "at_risk_min_orders": "orders",
    "at_risk_variation_percent": "%",
    "at_risk_silence_factor": "×",
    "cross_sell_min_orders": "orders",
    "offer_min_sample": "offers",
}


class InsightThresholdsForm(forms.ModelForm):
    class Meta:
        model = InsightThresholds
        fields = list(INSIGHT_THRESHOLD_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.update({"class": "form-control", "inputmode": "decimal"})
            if isinstance(field, forms.IntegerField):
                field.widget.attrs["inputmode"] = "numeric"
            field.error_messages["required"] = f"Enter a value for “{field.label}”."
            field.unit = UNITS.get(name, "")  # type: ignore[attr-defined]

    def sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [(title, about, [self[name] for name in names]) for title, about, names in SECTIONS]
