"""The routing rule form of the supervisors' rules page."""

from typing import Any

from django import forms

from crm.models import Channel
from orders.models import OrderStatus
from stores.models import Store
from tickets.models import Assignment, Priority, Queue, RoutingRule, ValueTier
from tickets.services.inquiries import INQUIRY_CHANNELS
from tickets.services.routing import RULE_FIELDS, keyword_lines

MAX_KEYWORDS = 100
KEYWORD_MAX_LENGTH = 100
MAX_TAGS = 10
TAG_MAX_LENGTH = 40


class TriStateField(forms.TypedChoiceField):
    """Yes / no / any, stored as True / False / None (a condition that is not set)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("", "Any"), ("yes", "Yes"), ("no", "No")],
            coerce=lambda value: value == "yes",
            empty_value=None,
            required=False,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        return {True: "yes", False: "no", None: ""}.get(value, value)


class TagsField(forms.CharField):
    """Tags typed comma-separated, kept as a list without repeats."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return list(dict.fromkeys(" ".join(tag.split()) for tag in text.split(",") if tag.strip()))

    def validate(self, value: Any) -> None:
        if len(value) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags.")
        for tag in value:
            if len(tag) > TAG_MAX_LENGTH:
                raise forms.ValidationError(
                    f"“{tag[:TAG_MAX_LENGTH]}…” is longer than {TAG_MAX_LENGTH} characters."
                )


def channel_choices() -> list[tuple[str, str]]:
    return [(value, label) for value, label in Channel.choices if value in INQUIRY_CHANNELS]


class RoutingRuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=channel_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Channel is one of",
    )
    keywords = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Subject or body mentions",
        help_text="One word or phrase a line. Whole words, any case.",
    )
    has_open_pickup = TriStateField(label="Has an open pickup")
    has_recent_return = TriStateField(label="Returned something in the last 30 days")
    high_maintenance = TriStateField(label="Flagged high-maintenance")
    value_tiers = forms.MultipleChoiceField(
        choices=ValueTier.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Lifetime value tier is one of",
    )
    order_statuses = forms.MultipleChoiceField(
        choices=OrderStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Linked order is",
    )
    store = forms.ModelChoiceField(
        queryset=Store.objects.filter(is_active=True),
        required=False,
        empty_label="Any store",
        label="Store is",
    )
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.all(),
        empty_label=None,
        label="Send to queue",
        error_messages={"required": "Choose the queue to send matching inquiries to."},
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Keep the inquiry's priority"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Set priority",
    )
    assignment = forms.ChoiceField(choices=Assignment.choices, required=False, label="Assign to")
    tags = TagsField(
        required=False,
        label="Add tags",
        help_text="Comma-separated, e.g. returns, vip.",
    )

    class Meta:
        model = RoutingRule
        fields = RULE_FIELDS
        labels = {"name": "Rule name", "enabled": "Enabled"}
        error_messages = {"name": {"required": "Give the rule a name."}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"
        self.fields["name"].widget.attrs["autofocus"] = True

    def full_clean(self) -> None:
        super().full_clean()
        # Mark the fields in error for assistive technology and the eye alike.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{name}-errors"

    def clean_keywords(self) -> str:
        lines = keyword_lines(self.cleaned_data["keywords"])
        if len(lines) > MAX_KEYWORDS:
            raise forms.ValidationError(f"At most {MAX_KEYWORDS} words or phrases.")
        too_long = [line for line in lines if len(line) > KEYWORD_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(
                f"“{too_long[0][:40]}…” is longer than {KEYWORD_MAX_LENGTH} characters."
            )
        return "\n".join(lines)
