"""Forms of the customer's side: the web form, replies, re-opening, rating, call-back requests."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from customers.identifiers import normalize_phone
from tickets.services.customer_side import (
    RATING_COMMENT_MAX_LENGTH,
    CallbackWish,
)
from tickets.services.inquiries import AttachmentFile

MESSAGE_MAX_LENGTH = 10_000
MAX_ATTACHMENTS = 3
# How far ahead a customer may ask to be called.
CALLBACK_MAX_DAYS_AHEAD = 30
# The name of the field only robots fill in: it is hidden from people and screen readers.
HONEYPOT_FIELD = "website"


class StyledForm(forms.Form):
    """Bootstrap classes on every widget; a field in error is marked invalid for assistive
    technology and points at its message (id "<field id>-error")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()

    def mark_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to MAX_ATTACHMENTS files, CRM_ATTACHMENT_MAX_BYTES together."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data]
        files = [super(AttachmentsField, self).clean(item, initial) for item in items if item]
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
        limit = settings.CRM_ATTACHMENT_MAX_BYTES
        if sum(item.size or 0 for item in files) > limit:
            raise ValidationError(
                f"The files are larger than {filesizeformat(limit)} together: "
                "leave some out or send smaller ones."
            )
        return files


def attachment_files(files: list[UploadedFile]) -> tuple[AttachmentFile, ...]:
    return tuple(
        AttachmentFile(
            filename=item.name or "attachment",
            content_type=item.content_type or "application/octet-stream",
            content=item.read(),
        )
        for item in files
    )


class CallbackFields(StyledForm):
    """A phone number and a time window on one day, in the visitor's time zone."""

    phone = forms.CharField(
        max_length=40,
        required=False,
        label="Phone",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    callback_day = forms.DateField(
        required=False, label="Day", widget=forms.DateInput(attrs={"type": "date"})
    )
    callback_from = forms.TimeField(
        required=False, label="From", widget=forms.TimeInput(attrs={"type": "time"})
    )
    callback_to = forms.TimeField(
        required=False, label="Until", widget=forms.TimeInput(attrs={"type": "time"})
    )

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "").strip()
        return normalize_phone(raw) if raw else ""

    def callback_wish(self, *, note: str = "") -> CallbackWish | None:
        """The cleaned call-back request, or None (errors are added to the form)."""
        data = self.cleaned_data
        phone = data.get("phone", "")
        day: date | None = data.get("callback_day")
        start: time | None = data.get("callback_from")
        end: time | None = data.get("callback_to")
        if "phone" not in self.errors and not phone:
            self.add_error("phone", "Enter the number we should call.")
        for name, value, message in (
            ("callback_day", day, "Choose the day we should call."),
            ("callback_from", start, "Enter the earliest time."),
            ("callback_to", end, "Enter the latest time."),
        ):
            if value is None and name not in self.errors:
                self.add_error(name, message)
        if not phone or day is None or start is None or end is None:
            return None
        zone = timezone.get_current_timezone()
        window_start = datetime.combine(day, start, tzinfo=zone)
        window_end = datetime.combine(day, end, tzinfo=zone)
        now = timezone.now()
        if window_end <= window_start:
            self.add_error("callback_to", "The latest time must be after the earliest.")
            return None
        if window_end <= now:
            self.add_error("callback_day", "That time is past: choose a time from now on.")
            return None
        if window_start > now + timedelta(days=CALLBACK_MAX_DAYS_AHEAD):
            self.add_error(
                "callback_day", f"Choose a day within the next {CALLBACK_MAX_DAYS_AHEAD} days."
            )
            return None
        return CallbackWish(
            phone=phone, window_start=max(window_start, now), window_end=window_end, note=note
        )


class ContactForm(CallbackFields):
    """The web form. A signed-in customer's name and e-mail come from her account."""

    name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(max_length=254, label="E-mail")
    order_number = forms.CharField(max_length=40, required=False, label="Order number")
    subject = forms.CharField(max_length=200, label="Subject")
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 7}),
    )
    attachments = AttachmentsField(label="Attachments")
    callback = forms.BooleanField(
        required=False,
        label="Please call me back",
        widget=forms.CheckboxInput(attrs={"data-enables": "callback-fields"}),
    )
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, signed_in: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_in = signed_in
        if signed_in:
            del self.fields["name"]
            del self.fields["email"]

    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD, "").strip())

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise ValidationError("Enter a subject.")
        return subject

    def clean_message(self) -> str:
        text = self.cleaned_data["message"].strip()
        if not text:
            raise ValidationError("Tell us what your question or problem is.")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.wish = self.callback_wish() if data.get("callback") else None
        return data

    def first_and_last_name(self) -> tuple[str, str]:
        first, _, last = self.cleaned_data.get("name", "").strip().partition(" ")
        return first, last.strip()


class ReplyForm(StyledForm):
    text = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH, label="Your reply", widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = AttachmentsField(label="Attachments")

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise ValidationError("Write your reply.")
        return text


class ReopenForm(StyledForm):
    text = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        label="What is still not right?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Tell us what is still not right."},
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise ValidationError("Tell us what is still not right.")
        return text


class RatingForm(StyledForm):
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Your rating",
        error_messages={"required": "Choose from 1 (poor) to 5 (excellent)."},
    )
    comment = forms.CharField(
        max_length=RATING_COMMENT_MAX_LENGTH,
        required=False,
        label="What could we do better?",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CallbackForm(CallbackFields):
    note = forms.CharField(max_length=500, required=False, label="What should we talk about?")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.wish = self.callback_wish(note=data.get("note", "").strip())
        return data
