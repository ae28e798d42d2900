"""The customer's side: the web form, her inquiries in the portal, and the tracking pages that
show one inquiry to whoever holds its link. Internal notes never reach any of these pages."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from functools import wraps
from typing import Any, TypedDict, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from crm import formats
from crm.links import ROW, RowLink
from crm.models import Channel, Role, User
from crm.permissions import AnyUser, require
from customers.models import ContactKind, Customer
from customers.services import Identity
from tickets.forms.customer import (
    CallbackForm,
    ContactForm,
    RatingForm,
    ReopenForm,
    ReplyForm,
    StyledForm,
    attachment_files,
)
from tickets.models import Inquiry, InquiryStatus, Message
from tickets.selectors import customer as selectors
from tickets.services.callbacks import callback_request
from tickets.services.customer_side import (
    inquiry_customer_reply,
    inquiry_rate,
    inquiry_reopen,
    inquiry_submit,
)
from tickets.views.attachments import attachment_response

# Per visitor IP. The web form is for people, not scripts; tracking tokens can't be guessed,
# and the limit keeps anyone from trying.
CONTACT_RATE = "10/h"
TRACK_RATE = "30/m"
TRACK_GROUP = "support.track"
SENT_SESSION_KEY = "support_inquiry_sent"
# Which service field belongs to which form field, when they are named differently.
SERVICE_FIELDS = {"window_start": "callback_from", "window_end": "callback_to", "text": "message"}


def is_customer(user: AnyUser) -> bool:
    return user.is_authenticated and cast(User, user).role == Role.CUSTOMER


customer_required = require(is_customer)


def _signed_in_customer(request: HttpRequest) -> Customer | None:
    """The signed-in customer's own record (none for visitors and staff)."""
    if not is_customer(request.user):
        return None
    return Customer.objects.filter(user=cast(User, request.user), merged_into__isnull=True).first()


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/customer/too_many.html", status=429)


def _service_errors(form: forms.Form, error: ValidationError, rename: dict[str, str]) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, field_messages in error.message_dict.items():
        name = rename.get(field, field)
        form.add_error(name if name in form.fields else None, field_messages)
    if isinstance(form, StyledForm):
        form.mark_errors()


# The web form --------------------------------------------------------------------------------


@ratelimit(key="ip", rate=CONTACT_RATE, method="POST", group="support.contact", block=False)
def contact(request: HttpRequest) -> HttpResponse:
    """Open an inquiry: a visitor gives her name and e-mail, a signed-in customer is known."""
    customer = _signed_in_customer(request)
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False):
            return _too_many(request)
        form = ContactForm(request.POST, request.FILES, signed_in=customer is not None)
        if form.is_bot():
            # Answer a robot as if it worked, so that it learns nothing; nothing is stored.
            return render(request, "tickets/customer/contact_sent.html", {"inquiry": None})
        if form.is_valid():
            try:
                inquiry = _submit(request, form, customer)
            except ValidationError as error:
                _service_errors(form, error, SERVICE_FIELDS)
            else:
                request.session[SENT_SESSION_KEY] = inquiry.pk
                return redirect("support:contact_sent")
        status = 400
    else:
        form = ContactForm(signed_in=customer is not None, initial=_initial(request, customer))
    return render(
        request,
        "tickets/customer/contact.html",
        {"form": form, "customer": customer, "max_upload": settings.CRM_ATTACHMENT_MAX_BYTES},
        status=status,
    )


def _initial(request: HttpRequest, customer: Customer | None) -> dict[str, Any]:
    if customer is not None:
        phone = customer.contact_points.filter(kind=ContactKind.PHONE).first()
        return {"phone": phone.value if phone else ""}
    if request.user.is_authenticated:
        user = cast(User, request.user)
        return {"name": user.get_full_name(), "email": user.email}
    return {}


def _submit(request: HttpRequest, form: ContactForm, customer: Customer | None) -> Inquiry:
    data = form.cleaned_data
    if customer is not None:
        user = cast(User, request.user)
        identity = Identity(email=user.email, first_name=user.first_name, last_name=user.last_name)
    else:
        first, last = form.first_and_last_name()
        identity = Identity(
            email=data["email"], phone=data["phone"], first_name=first, last_name=last
        )
    if form.wish is None and data.get("callback"):
        raise ValidationError({"callback": ["Tell us when and where to call you."]})
    return inquiry_submit(
        channel=Channel.PORTAL if customer is not None else Channel.WEB_FORM,
        identity=identity,
        customer=customer,
        subject=data["subject"],
        text=data["message"],
        attachments=attachment_files(data["attachments"]),
        order_number=data["order_number"],
        callback=form.wish,
        actor=cast(User, request.user) if customer is not None else None,
    )


def contact_sent(request: HttpRequest) -> HttpResponse:
    """What the customer sees after sending the form: her reference and where to follow it."""
    pk = request.session.get(SENT_SESSION_KEY)
    inquiry = selectors.sent_inquiry(inquiry_id=pk) if isinstance(pk, int) else None
    if inquiry is None:
        return redirect("support:contact")
    return render(
        request,
        "tickets/customer/contact_sent.html",
        {
            "inquiry": inquiry,
            "tracking_url": request.build_absolute_uri(inquiry.get_tracking_url()),
            "expected": selectors.expected_answer(inquiry=inquiry),
            "in_portal": _signed_in_customer(request) is not None,
        },
    )


# One inquiry, in the portal or through its tracking link ------------------------------------


@dataclass(frozen=True)
class Place:
    """Where the customer looks at her inquiry: the portal (signed in) or a tracking link."""

    inquiry: Inquiry
    token: str = ""
    customer: Customer | None = None

    @property
    def channel(self) -> str:
        return Channel.PORTAL if self.customer is not None else Channel.WEB_FORM

    def url(self, name: str = "", inquiry: Inquiry | None = None) -> str:
        inquiry = inquiry or self.inquiry
        suffix = f"_{name}" if name else ""
        if self.customer is not None:
            return reverse(f"support:portal_inquiry{suffix}", args=[inquiry.reference])
        return reverse(f"support:track{suffix}", args=[inquiry.tracking_token])

    def attachment_link(self) -> RowLink:
        """The address of a file of the inquiry's messages, by the file's id."""
        if self.customer is not None:
            return RowLink("support:portal_inquiry_attachment", self.inquiry.reference, ROW)
        return RowLink("support:track_attachment", self.token, ROW)


class FileRow(TypedDict):
    url: str
    filename: str
    size: str


class MessageRow(TypedDict):
    """A public message as her inquiry page shows it, its time written out here in her zone (a
    template filter costs tens of microseconds); `text` is escaped by the template."""

    pk: str
    kind: str
    author_first_name: str
    channel_label: str
    iso: str
    sent: str
    text: str
    files: list[FileRow]


class StepRow(TypedDict):
    label: str
    iso: str
    at: str


def _message_rows(messages: Iterable[Message], place: Place, zone: tzinfo) -> list[MessageRow]:
    """Each message's row, with its files (prefetched); their address reversed once."""
    link: RowLink | None = None
    rows = []
    for message in messages:
        files = []
        for file in message.attachments.all():
            link = link or place.attachment_link()
            files.append(
                FileRow(url=link(file.pk), filename=file.filename, size=filesizeformat(file.size))
            )
        rows.append(
            MessageRow(
                pk=str(message.pk),
                kind=message.kind,
                author_first_name=message.author.first_name if message.author else "",
                channel_label=message.get_channel_display(),
                iso=formats.iso(message.created_at, zone),
                sent=formats.date_time(message.created_at, zone),
                text=message.text,
                files=files,
            )
        )
    return rows


def _page(
    request: HttpRequest, place: Place, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    inquiry = place.inquiry
    resolved = inquiry.status == InquiryStatus.RESOLVED
    public = selectors.public_inquiry(inquiry=inquiry)
    zone = timezone.get_current_timezone()
    context: dict[str, Any] = {
        "public": public,
        "opened": formats.date_time(inquiry.created_at, zone),
        "message_rows": _message_rows(public.messages, place, zone),
        "history_rows": [
            StepRow(
                label=step.label,
                iso=formats.iso(step.at, zone),
                at=formats.date_time(step.at, zone),
            )
            for step in public.history
        ],
        "inquiry": inquiry,
        "place": place,
        "in_portal": place.customer is not None,
        "reply_url": place.url("reply"),
        "reopen_url": place.url("reopen"),
        "rate_url": place.url("rate"),
        "callback_url": place.url("callback") if place.customer is not None else "",
        "reply_form": bound.get("reply_form") or (None if resolved else ReplyForm()),
        "reopen_form": bound.get("reopen_form") or (ReopenForm() if resolved else None),
        "rating_form": bound.get("rating_form")
        or (
            RatingForm(initial={"rating": inquiry.rating, "comment": inquiry.rating_comment})
            if resolved
            else None
        ),
        "callback_form": bound.get("callback_form")
        or (CallbackForm() if place.customer is not None and not resolved else None),
        "show_callback": "callback_form" in bound,
        "show_rating_form": "rating_form" in bound or (resolved and inquiry.rating is None),
    }
    return render(request, "tickets/customer/inquiry.html", context, status=status)


def _reply(request: HttpRequest, place: Place) -> HttpResponse:
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            landed, message = inquiry_customer_reply(
                inquiry=place.inquiry,
                text=form.cleaned_data["text"],
                attachments=attachment_files(form.cleaned_data["attachments"]),
                channel=place.channel,
                actor=_actor(request, place),
            )
        except ValidationError as error:
            _service_errors(form, error, {})
        else:
            if landed.pk != place.inquiry.pk:
                messages.info(request, _moved_on(place.inquiry, landed))
            else:
                messages.success(request, "Your message was added. We will get back to you.")
            return redirect(f"{place.url(inquiry=landed)}#message-{message.pk}")
    return _page(request, place, status=400, reply_form=form)


def _reopen(request: HttpRequest, place: Place) -> HttpResponse:
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            landed = inquiry_reopen(
                inquiry=place.inquiry,
                text=form.cleaned_data["text"],
                channel=place.channel,
                actor=_actor(request, place),
            )
        except ValidationError as error:
            _service_errors(form, error, {})
        else:
            if landed.pk != place.inquiry.pk:
                messages.info(request, _moved_on(place.inquiry, landed))
            else:
                messages.success(request, "Your inquiry is open again. We will get back to you.")
            return redirect(place.url(inquiry=landed))
    return _page(request, place, status=400, reopen_form=form)


def _rate(request: HttpRequest, place: Place) -> HttpResponse:
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            inquiry_rate(
                inquiry=place.inquiry,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                actor=_actor(request, place),
            )
        except ValidationError as error:
            _service_errors(form, error, {})
        else:
            messages.success(request, "Thank you for your rating.")
            return redirect(f"{place.url()}#rate")
    return _page(request, place, status=400, rating_form=form)


def _moved_on(old: Inquiry, new: Inquiry) -> str:
    return (
        f"{old.reference} was closed some time ago, so your message opened a new inquiry, "
        f"{new.reference}. We will get back to you."
    )


def _actor(request: HttpRequest, place: Place) -> User | None:
    return cast(User, request.user) if place.customer is not None else None


# The portal ----------------------------------------------------------------------------------


@customer_required
def portal(request: HttpRequest) -> HttpResponse:
    """Her inquiries, latest activity first."""
    customer = _signed_in_customer(request)
    page, rows = (
        selectors.portal_page(customer=customer, page=request.GET.get("page"))
        if customer is not None
        else (None, [])
    )
    return render(
        request,
        "tickets/customer/portal.html",
        {"customer": customer, "page": page, "rows": rows},
    )


def _portal_place(request: HttpRequest, key: str) -> Place:
    customer = _signed_in_customer(request)
    inquiry = (
        selectors.inquiry_of_customer(customer=customer, key=key) if customer is not None else None
    )
    if customer is None or inquiry is None:
        raise Http404("No such inquiry.")
    return Place(inquiry=inquiry, customer=customer)


@customer_required
def portal_inquiry(request: HttpRequest, key: str) -> HttpResponse:
    place = _portal_place(request, key)
    if place.inquiry.merged_into_id:
        survivor = selectors.inquiry_of_customer(
            customer=cast(Customer, place.customer), key=str(place.inquiry.merged_into_id)
        )
        if survivor is not None:
            return redirect(place.url(inquiry=survivor))
    return _page(request, place)


@require_POST
@customer_required
def portal_inquiry_reply(request: HttpRequest, key: str) -> HttpResponse:
    return _reply(request, _portal_place(request, key))


@require_POST
@customer_required
def portal_inquiry_reopen(request: HttpRequest, key: str) -> HttpResponse:
    return _reopen(request, _portal_place(request, key))


@require_POST
@customer_required
def portal_inquiry_rate(request: HttpRequest, key: str) -> HttpResponse:
    return _rate(request, _portal_place(request, key))


@require_POST
@customer_required
def portal_inquiry_callback(request: HttpRequest, key: str) -> HttpResponse:
    place = _portal_place(request, key)
    form = CallbackForm(request.POST)
    if form.is_valid() and form.wish is not None:
        try:
            callback_request(
                customer=place.customer,
                phone=form.wish.phone,
                window_start=form.wish.window_start,
                window_end=form.wish.window_end,
                note=form.wish.note,
                channel=Channel.PORTAL,
                actor=cast(User, request.user),
                inquiry=place.inquiry,
            )
        except ValidationError as error:
            _service_errors(form, error, SERVICE_FIELDS)
        else:
            messages.success(request, "We will call you back.")
            return redirect(f"{place.url()}#callbacks")
    return _page(request, place, status=400, callback_form=form)


@customer_required
def portal_inquiry_attachment(request: HttpRequest, key: str, attachment_id: int) -> HttpResponse:
    place = _portal_place(request, key)
    attachment = selectors.public_attachment(inquiry=place.inquiry, attachment_id=attachment_id)
    if attachment is None:
        raise Http404("No such file.")
    # A FileResponse: streamed, yet a response like any other to the decorators around it.
    return cast(HttpResponse, attachment_response(attachment))


@customer_required
def callback_new(request: HttpRequest) -> HttpResponse:
    """A call-back request on its own: it opens an inquiry on the call-back channel."""
    customer = _signed_in_customer(request)
    status = 200
    if request.method == "POST" and customer is not None:
        form = CallbackForm(request.POST)
        if form.is_valid() and form.wish is not None:
            try:
                callback = callback_request(
                    customer=customer,
                    phone=form.wish.phone,
                    window_start=form.wish.window_start,
                    window_end=form.wish.window_end,
                    note=form.wish.note,
                    channel=Channel.PORTAL,
                    actor=cast(User, request.user),
                )
            except ValidationError as error:
                _service_errors(form, error, SERVICE_FIELDS)
            else:
                messages.success(request, "We will call you back.")
                return redirect(Place(inquiry=callback.inquiry, customer=customer).url())
        status = 400
    else:
        phone = customer.contact_points.filter(kind=ContactKind.PHONE).first() if customer else None
        form = CallbackForm(initial={"phone": phone.value if phone else ""})
    return render(
        request,
        "tickets/customer/callback.html",
        {"form": form, "customer": customer},
        status=status,
    )


# Tracking links ------------------------------------------------------------------------------


def _track_place(request: HttpRequest, token: str) -> Place:
    inquiry = selectors.inquiry_by_token(token=token)
    if inquiry is None:
        raise Http404("No such inquiry.")
    return Place(inquiry=inquiry, token=token)


def _tracked(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Tracking pages: rate-limited per IP (a wrong token counts too), never cached."""

    @never_cache
    @ratelimit(key="ip", rate=TRACK_RATE, group=TRACK_GROUP, block=False)
    @wraps(view)
    def limited(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "limited", False):
            return _too_many(request)
        return view(request, _track_place(request, token), *args, **kwargs)

    return limited


@_tracked
def track(request: HttpRequest, place: Place) -> HttpResponse:
    """The inquiry page for whoever holds the tracking link, without an account."""
    survivor = place.inquiry.merged_into
    if survivor is not None and survivor.customer_id == place.inquiry.customer_id:
        return redirect(place.url(inquiry=survivor))
    return _page(request, place)


@require_POST
@_tracked
def track_reply(request: HttpRequest, place: Place) -> HttpResponse:
    return _reply(request, place)


@require_POST
@_tracked
def track_reopen(request: HttpRequest, place: Place) -> HttpResponse:
    return _reopen(request, place)


@require_POST
@_tracked
def track_rate(request: HttpRequest, place: Place) -> HttpResponse:
    return _rate(request, place)


@_tracked
def track_attachment(request: HttpRequest, place: Place, attachment_id: int) -> HttpResponseBase:
    attachment = selectors.public_attachment(inquiry=place.inquiry, attachment_id=attachment_id)
    if attachment is None:
        raise Http404("No such file.")
    return attachment_response(attachment)
