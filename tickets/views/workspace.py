"""The agent workspace: the inquiry list, one inquiry with its actions, and the call-back list.
Views parse, check who may act, call a service and redirect; the selectors decide what is seen."""

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any, TypedDict, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from crm import formats
from crm.links import ROW, RowLink
from crm.models import Channel, User
from crm.permissions import can_work_inquiries, staff_required
from customers.selectors import recent_orders
from tickets.forms.workspace import (
    AssigneeForm,
    CallbackOutcomeForm,
    LinkOrderForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    QueueForm,
    ReplyForm,
    StatusForm,
    TagsForm,
)
from tickets.models import CallbackOutcome, Inquiry, InquiryStatus, Priority
from tickets.selectors import workspace as selectors
from tickets.services import callbacks as callback_services
from tickets.services import workspace as services
from tickets.services.inquiries import inquiry_set_status


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _visible(request: HttpRequest, inquiry_id: int) -> Inquiry:
    inquiry = selectors.inquiry_for_page(user=request.user, inquiry_id=inquiry_id)
    if inquiry is None:
        raise Http404("No such inquiry.")
    return inquiry


def _workable(request: HttpRequest, inquiry_id: int) -> Inquiry:
    """An inquiry the user may see and change: store staff see their stores' but only note."""
    inquiry = _visible(request, inquiry_id)
    if not can_work_inquiries(request.user):
        raise PermissionDenied
    return inquiry


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


class QueueLine(TypedDict):
    """An inquiry as its row of the list shows it, its times written out here in the user's
    zone and its link reversed once for the page (the filters and tags of a row cost more than
    the rest of the page)."""

    url: str
    reference: str
    subject: str
    automated_reason: str
    status: str
    status_label: str
    rating: str
    priority: str
    priority_label: str
    # Her name, else the address the inquiry came from; "" when neither is known.
    requester: str
    channel: str
    channel_label: str
    queue_name: str | None
    assignee: str | None
    # The SLA timer: its text and class; "" when the inquiry has none.
    timer: str
    timer_class: str
    breached: bool
    is_open: bool
    created_iso: str
    created_title: str
    created: str


def _queue_lines(rows: Iterable[selectors.QueueRow], zone: tzinfo) -> list[QueueLine]:
    link = RowLink("tickets:inquiry", ROW)
    lines = []
    for row in rows:
        inquiry, timer = row.inquiry, row.timer
        customer, queue, assignee = inquiry.customer, inquiry.queue, inquiry.assignee
        breached = timer is not None and timer.breached
        lines.append(
            QueueLine(
                url=link(inquiry.pk),
                reference=inquiry.reference,
                subject=inquiry.subject,
                automated_reason=inquiry.automated_reason,
                status=inquiry.status,
                status_label=inquiry.get_status_display(),
                rating=str(inquiry.rating) if inquiry.rating else "",
                priority=str(inquiry.priority),
                priority_label=inquiry.get_priority_display(),
                requester=customer.full_name if customer else inquiry.requester_email,
                channel=inquiry.channel,
                channel_label=inquiry.get_channel_display(),
                queue_name=queue.name if queue else None,
                assignee=str(assignee) if assignee else None,
                timer=timer.label if timer else "",
                timer_class=(
                    " sla-breached" if breached else " sla-soon" if timer and timer.soon else ""
                ),
                breached=breached,
                is_open=inquiry.is_open,
                created_iso=formats.iso(inquiry.created_at, zone),
                created_title=formats.date_time_zone(inquiry.created_at, zone),
                created=formats.month_day_time(inquiry.created_at, zone),
            )
        )
    return lines


@staff_required
def inquiry_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.QueueFilters.parse(request.GET.dict())
    queue_page = selectors.inquiry_queue_page(
        user=_user(request), filters=filters, page=request.GET.get("page", "1")
    )
    return render(
        request,
        "tickets/workspace/queue.html",
        {
            "q": queue_page,
            "rows": _queue_lines(queue_page.rows, timezone.get_current_timezone()),
            "filters": filters,
            "tab_links": [(tab, _query(request, view=tab.key)) for tab in queue_page.tabs],
            "queue_links": [
                (None, _query(request, queue="")),
                *((queue, _query(request, queue=queue.slug)) for queue in queue_page.queues),
            ],
            "previous_link": _query(request, page=queue_page.page.previous_page_number())
            if queue_page.page.has_previous()
            else "",
            "next_link": _query(request, page=queue_page.page.next_page_number())
            if queue_page.page.has_next()
            else "",
            "status_choices": list(selectors.STATUS_FILTERS.items()),
            "priority_choices": Priority.choices,
            "channel_choices": Channel.choices,
            "sort_choices": list(selectors.SORTS.items()),
        },
    )


FILTER_PARAMETERS = ("view", "queue", "status", "priority", "channel", "sort")


def _query(request: HttpRequest, **changes: object) -> str:
    """The list's address with one filter changed and the others kept; back to page 1 unless
    the page is what changes."""
    params: dict[str, str] = {
        key: str(value) for key, value in request.GET.items() if key in FILTER_PARAMETERS and value
    }
    for key, value in changes.items():
        if value in ("", None):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


class Stamp(TypedDict):
    """When a message was written or a change made, as the inquiry page shows it: written out
    here in the user's zone, as the date filter would in the template."""

    iso: str
    title: str
    short: str


def _stamp(moment: datetime, zone: tzinfo) -> Stamp:
    return Stamp(
        iso=formats.iso(moment, zone),
        title=formats.full_date_time_zone(moment, zone),
        short=formats.month_day_time(moment, zone),
    )


def _detail_context(
    request: HttpRequest,
    inquiry: Inquiry,
    reply_form: ReplyForm | None = None,
    note_form: NoteForm | None = None,
) -> dict[str, Any]:
    page = selectors.inquiry_page(user=_user(request), inquiry=inquiry)
    working = can_work_inquiries(request.user)
    zone = timezone.get_current_timezone()
    return {
        "inquiry": inquiry,
        "page": page,
        "conversation": [
            (entry, _stamp(entry.message.created_at, zone)) for entry in page.conversation
        ],
        "events": [(row, _stamp(row.event.created_at, zone)) for row in page.events],
        "can_work": working,
        "reply_form": reply_form or ReplyForm(),
        "note_form": note_form or NoteForm(),
        "tags_value": ", ".join(inquiry.tags),
        "merge_form": MergeForm(candidates=page.merge_candidates),
        "order_form": LinkOrderForm(
            orders=page.orders, initial={"order": inquiry.order.number if inquiry.order else ""}
        ),
        "status_choices": InquiryStatus.choices,
        "priority_choices": Priority.choices,
        "callback_outcomes": CallbackOutcome.choices,
        "is_member": any(member.pk == request.user.pk for member in page.members),
    }


@staff_required
def inquiry_detail(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _visible(request, inquiry_id)
    return render(request, "tickets/workspace/inquiry.html", _detail_context(request, inquiry))


def _back(inquiry: Inquiry, anchor: str = "") -> HttpResponse:
    return redirect(
        reverse("tickets:inquiry", args=[inquiry.pk]) + (f"#{anchor}" if anchor else "")
    )


@require_POST
@staff_required
def inquiry_reply(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _workable(request, inquiry_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            message = services.inquiry_reply(
                inquiry=inquiry,
                text=form.cleaned_data["text"],
                status=form.cleaned_data["status"],
                actor=_user(request),
            )
        except ValidationError as error:
            field = "status" if "status" in getattr(error, "error_dict", {}) else "text"
            form.add_error(field, error.messages)
        else:
            if message.outbound_email_id is None:
                messages.warning(
                    request,
                    "Reply saved, but no e-mail could be sent: this inquiry has no e-mail "
                    "address. The customer sees the reply on her tracking page; call her if she "
                    "needs it sooner.",
                )
            else:
                messages.success(request, f"Reply sent to {inquiry.requester_email}.")
            return _back(inquiry, f"message-{message.pk}")
    context = _detail_context(request, inquiry, reply_form=form)
    return render(request, "tickets/workspace/inquiry.html", context, status=400)


@require_POST
@staff_required
def inquiry_note(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _visible(request, inquiry_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            message = services.inquiry_note_add(
                inquiry=inquiry, text=form.cleaned_data["note"], actor=_user(request)
            )
        except ValidationError as error:
            form.add_error("note", error.messages)
        else:
            messages.success(request, "Internal note added.")
            return _back(inquiry, f"message-{message.pk}")
    context = _detail_context(request, inquiry, note_form=form)
    return render(request, "tickets/workspace/inquiry.html", context, status=400)


def _change(
    request: HttpRequest,
    inquiry_id: int,
    form_class: Callable[..., Form],
    act: Callable[[Inquiry, dict[str, Any], User], str],
    **form_kwargs: Any,
) -> HttpResponse:
    """Run one of the small changes (a select and a button): success and errors come back as a
    message on the inquiry's page."""
    inquiry = _workable(request, inquiry_id)
    form = form_class(request.POST, **form_kwargs)
    if not form.is_valid():
        problems = [str(error) for errors in form.errors.values() for error in errors]
        messages.error(request, " ".join(problems))
        return _back(inquiry)
    try:
        done = act(inquiry, form.cleaned_data, _user(request))
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, done)
    return _back(inquiry)


@require_POST
@staff_required
def inquiry_status(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    def act(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
        inquiry = inquiry_set_status(inquiry=inquiry, status=data["status"], actor=user)
        return f"Status: {inquiry.get_status_display().lower()}."

    return _change(request, inquiry_id, StatusForm, act)


@require_POST
@staff_required
def inquiry_priority(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    def act(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
        inquiry = services.inquiry_set_priority(
            inquiry=inquiry, priority=data["priority"], actor=user
        )
        return f"Priority: {inquiry.get_priority_display().lower()}."

    return _change(request, inquiry_id, PriorityForm, act)


@require_POST
@staff_required
def inquiry_queue(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    def act(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
        services.inquiry_set_queue(inquiry=inquiry, queue=data["queue"], actor=user)
        return f"Moved to {data['queue']}."

    return _change(request, inquiry_id, QueueForm, act)


@require_POST
@staff_required
def inquiry_assign(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    def act(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
        value = data["assignee"]
        if value == "me":
            assignee: User | None = user
        elif value.isdigit():
            assignee = User.objects.filter(pk=int(value), is_active=True).first()
            if assignee is None:
                raise ValidationError("No such colleague.")
        else:
            assignee = None
        services.inquiry_assign(inquiry=inquiry, assignee=assignee, actor=user)
        if assignee is None:
            return "Unassigned."
        return "Assigned to you." if assignee == user else f"Assigned to {assignee}."

    return _change(request, inquiry_id, AssigneeForm, act)


@require_POST
@staff_required
def inquiry_tags(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    def act(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
        inquiry = services.inquiry_set_tags(
            inquiry=inquiry, tags=services.clean_tags(data["tags"]), actor=user
        )
        return "Tags saved." if inquiry.tags else "Tags removed."

    return _change(request, inquiry_id, TagsForm, act)


@require_POST
@staff_required
def inquiry_merge(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _workable(request, inquiry_id)
    candidates = selectors.merge_candidates(user=request.user, inquiry=inquiry)

    def act(survivor: Inquiry, data: dict[str, Any], user: User) -> str:
        merged = next(c for c in candidates if str(c.pk) == data["other"])
        services.inquiry_merge(survivor=survivor, merged=merged, actor=user)
        return f"{merged.reference} merged into this inquiry."

    return _change(request, inquiry_id, MergeForm, act, candidates=candidates)


@require_POST
@staff_required
def inquiry_link_order(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _workable(request, inquiry_id)
    orders = (
        recent_orders(customer=inquiry.customer, limit=selectors.ORDER_CHOICES_LIMIT)
        if inquiry.customer
        else []
    )

    def act(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
        order = next((o for o in orders if o.number == data["order"]), None)
        services.inquiry_link_order(inquiry=inquiry, order=order, actor=user)
        return f"Linked to order {order.number}." if order else "No order linked."

    return _change(request, inquiry_id, LinkOrderForm, act, orders=orders)


@staff_required
def callback_list(request: HttpRequest) -> HttpResponse:
    page = selectors.callback_page(user=request.user, page=request.GET.get("page", "1"))
    return render(
        request,
        "tickets/workspace/callbacks.html",
        {
            "page": page,
            "rows": selectors.callback_rows(list(page.object_list)),
            "outcomes": CallbackOutcome.choices,
            "now_day": timezone.localtime().strftime("%Y%m%d"),
        },
    )


@require_POST
@staff_required
def callback_outcome(request: HttpRequest, callback_id: int) -> HttpResponse:
    callback = selectors.callback_for_action(user=request.user, callback_id=callback_id)
    if callback is None:
        raise Http404("No such call-back.")
    form = CallbackOutcomeForm(request.POST)
    back = redirect(reverse("tickets:callbacks") + f"#callback-{callback.pk}")
    if not form.is_valid():
        messages.error(request, "Choose how the call went.")
        return back
    try:
        callback = callback_services.callback_log_outcome(
            callback=callback,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            actor=_user(request),
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
        return back
    name = callback.customer.full_name
    if callback.last_outcome == CallbackOutcome.NO_ANSWER:
        messages.info(request, f"No answer from {name}: try again, the list shows when.")
    else:
        messages.success(request, f"Call with {name} logged on {callback.inquiry.reference}.")
    return redirect(reverse("tickets:callbacks"))
