"""Forms of the agent workspace, the call-back list and the 360 page's phone forms. They parse
input; the services decide what is allowed."""

import datetime
from collections.abc import Iterable, Sequence

from django import forms
from django.utils import timezone

from orders.models import Order
from tickets.models import (
    SUBJECT_MAX_LENGTH,
    CallbackOutcome,
    Inquiry,
    InquiryStatus,
    Priority,
    Queue,
)
from tickets.services.callbacks import NOTE_MAX_LENGTH
from tickets.services.inquiries import TEXT_MAX_LENGTH

REPLY_STATUS_CHOICES = [
    ("", "Keep the status"),
    (InquiryStatus.WAITING, "Waiting on customer"),
    (InquiryStatus.RESOLVED, "Resolved"),
]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Reply to the customer",
        max_length=TEXT_MAX_LENGTH,
        strip=False,
        error_messages={"required": "Write the reply first."},
    )
    status = forms.ChoiceField(
        label="Then set status", choices=REPLY_STATUS_CHOICES, required=False
    )


class NoteForm(forms.Form):
    # Not "text": the page's only field of that name is the reply, whatever the tab shown.
    note = forms.CharField(
        label="Internal note",
        max_length=TEXT_MAX_LENGTH,
        strip=False,
        error_messages={"required": "Write the note first."},
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=InquiryStatus.choices)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label="Priority", choices=Priority.choices, coerce=int)


class QueueForm(forms.Form):
    queue = forms.ModelChoiceField(
        label="Queue", queryset=Queue.objects.all(), to_field_name="slug"
    )


class AssigneeForm(forms.Form):
    """The assignee as a user id among the queue's members; "" unassigns, "me" takes it."""

    assignee = forms.CharField(label="Assignee", required=False, max_length=20)


class TagsForm(forms.Form):
    tags = forms.CharField(
        label="Tags", required=False, max_length=1000, help_text="Separated by commas."
    )


def _choices_of(items: Iterable[tuple[object, str]]) -> list[tuple[str, str]]:
    return [(str(value), label) for value, label in items]


def _order_choices(orders: Sequence[Order]) -> list[tuple[str, str]]:
    return [
        ("", "No order"),
        *_choices_of(
            (order.number, f"{order.number} · {timezone.localtime(order.placed_at):%b %-d, %Y}")
            for order in orders
        ),
    ]


class MergeForm(forms.Form):
    other = forms.ChoiceField(label="Merge into this inquiry")

    def __init__(self, *args: object, candidates: Sequence[Inquiry], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["other"].choices = _choices_of(  # type: ignore[attr-defined]
            (inquiry.pk, f"{inquiry.reference} · {inquiry.subject}") for inquiry in candidates
        )


class LinkOrderForm(forms.Form):
    order = forms.ChoiceField(label="Order", required=False)

    def __init__(self, *args: object, orders: Sequence[Order], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["order"].choices = _order_choices(orders)  # type: ignore[attr-defined]


class CallbackOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="How did the call go?", choices=CallbackOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Note", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea
    )


LOG_CALL_STATUS_CHOICES = [
    (InquiryStatus.OPEN, "Open: needs follow-up"),
    (InquiryStatus.RESOLVED, "Resolved on the call"),
]


class LogCallForm(forms.Form):
    """A phone call written down from the 360 page."""

    subject = forms.CharField(
        label="Subject",
        max_length=SUBJECT_MAX_LENGTH,
        error_messages={"required": "Say in a few words what the call was about."},
    )
    text = forms.CharField(
        label="What was said",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea,
        strip=False,
        error_messages={"required": "Write down what was said."},
    )
    order = forms.ChoiceField(label="About order", required=False)
    status = forms.ChoiceField(
        label="Status after the call",
        choices=LOG_CALL_STATUS_CHOICES,
        initial=InquiryStatus.OPEN,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: object, orders: Sequence[Order], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["order"].choices = _order_choices(orders)  # type: ignore[attr-defined]


def _next_full_hour() -> datetime.datetime:
    now = timezone.localtime()
    return now.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)


class CallbackRequestForm(forms.Form):
    """A call-back window as a day and two times in the user's time zone."""

    phone = forms.CharField(
        label="Phone to call",
        max_length=40,
        error_messages={"required": "Give the phone number to call."},
    )
    day = forms.DateField(label="Day", error_messages={"required": "Choose the day."})
    start = forms.TimeField(
        label="From", error_messages={"required": "Give the earliest time to call."}
    )
    end = forms.TimeField(label="To", error_messages={"required": "Give the latest time to call."})
    note = forms.CharField(
        label="What about", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea
    )

    def __init__(self, *args: object, phones: Sequence[str] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Her phone numbers, offered as suggestions; the first one is filled in.
        self.initial_phones = list(phones)
        start = _next_full_hour()
        self.initial.setdefault("phone", phones[0] if phones else "")
        self.initial.setdefault("day", start.date())
        self.initial.setdefault("start", start.time())
        self.initial.setdefault("end", (start + datetime.timedelta(hours=2)).time())

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The window as aware datetimes; an end before the start is the service's to refuse."""
        day = self.cleaned_data["day"]
        start = timezone.make_aware(datetime.datetime.combine(day, self.cleaned_data["start"]))
        end = timezone.make_aware(datetime.datetime.combine(day, self.cleaned_data["end"]))
        return start, end

    # The service names the window's fields after the window; the form after what is typed.
    SERVICE_FIELDS = {
        "window_start": "start",
        "window_end": "end",
        "phone": "phone",
        "note": "note",
    }
