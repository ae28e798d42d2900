"""Call-center console pages: search, the customer 360 page, comments and merges."""

from collections.abc import Iterable
from datetime import tzinfo
from typing import Any, TypedDict, cast
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from crm import formats
from crm.links import ROW, RowLink
from crm.models import Channel, User
from crm.permissions import (
    HtmxHttpRequest,
    can_comment,
    can_merge_customers,
    can_view_customers,
    is_store_staff,
    require,
)
from crm.services import audit_record
from customers import selectors, services
from customers.forms import CommentForm, MergeForm
from customers.identifiers import format_phone
from customers.insights import selectors as insight_selectors
from customers.insights.flags import can_set_insight_thresholds
from customers.insights.forms import InsightThresholdsForm
from customers.insights.services import insight_thresholds_current, insight_thresholds_update
from customers.models import Activity, ActivityKind, ContactKind, Customer, MergeSuggestion
from customers.templatetags.crm_customers import channel_icon, timeline_icon
from orders.models import Order
from stores.models import Store
from tickets.forms.workspace import CallbackRequestForm, LogCallForm
from tickets.models import Inquiry, InquiryStatus
from tickets.selectors.workspace import customer_inquiries
from tickets.services.callbacks import callback_request, callback_window_label
from tickets.services.workspace import inquiry_log_call


def _live_customer(customer_id: int) -> Customer:
    customer = selectors.customer_for_page(customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _comment_stores(user: User) -> list[Store]:
    return list(Store.objects.filter(memberships__user=user)) if is_store_staff(user) else []


class SearchRow(TypedDict):
    """A customer as her row in the search results shows her, written out here in the user's
    time zone, as the pickup counter's rows are (stores.views.pickups.CounterRow)."""

    url: str
    name: str
    city: str
    # (kind, as shown) of her e-mail addresses, phone numbers and loyalty cards
    contacts: list[tuple[str, str]]
    no_contact_points: bool
    home_store: str
    since: str


_LISTED_CONTACTS = (ContactKind.EMAIL, ContactKind.PHONE, ContactKind.LOYALTY)


def _search_rows(customers: list[Customer]) -> list[SearchRow]:
    """Each customer's row; her contact points and home store come with her (no query)."""
    link = RowLink("customers:detail", ROW)
    zone = timezone.get_current_timezone()
    rows = []
    for customer in customers:
        points = customer.contact_points.all()
        rows.append(
            SearchRow(
                url=link(customer.pk),
                name=customer.full_name,
                city=customer.city,
                contacts=[
                    (p.kind, format_phone(p.value) if p.kind == ContactKind.PHONE else p.value)
                    for p in points
                    if p.kind in _LISTED_CONTACTS
                ],
                no_contact_points=not points,
                home_store=(customer.home_store.name if customer.home_store else "") or "—",
                since=formats.month_year(customer.customer_since, zone),
            )
        )
    return rows


@require(can_view_customers)
def customer_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = request.GET.get("page", "1")
    result = selectors.customer_search(query=query, page=int(page) if page.isdigit() else 1)
    if len(result.customers) == 1 and result.page == 1 and not result.has_next:
        return redirect(result.customers[0])
    return render(
        request,
        "customers/search.html",
        {"query": query, "result": result, "rows": _search_rows(result.customers)},
    )


class TimelineRow(TypedDict):
    """An entry of her timeline as customers/_timeline_item.html shows it, its time written out
    here in the viewer's zone (a template filter costs tens of microseconds, and each entry had
    six). A dict, as templates read a dict's keys at the least cost."""

    pk: str
    kind: str
    channel: str
    icon: str
    url: str  # "" for an entry that links nowhere
    summary: str
    iso: str
    full: str
    when: str
    channel_icon: str
    channel_label: str
    store: str
    has_actor: bool
    actor: str
    detail: str


# The page an entry links to, by what it is about: a page of its own, or the engagement tab
# opened at the entry's row (?from=<id>#<anchor>-<id>, see customers/views_engagement.py).
SUBJECT_PAGES = {
    "order": "orders:detail",
    "inquiry": "tickets:inquiry",
    "product": "products:detail",
}
SUBJECT_TABS = {
    "touch": ("customers:offers", "offer"),
    "visit": ("customers:visits", "visit"),
    "cart": ("customers:carts", "cart"),
}


def _timeline_rows(activities: Iterable[Activity], zone: tzinfo) -> list[TimelineRow]:
    """Each entry's row; each kind of link reversed once for the page, if an entry has it."""
    links: dict[str, RowLink] = {}

    def link(view: str) -> RowLink:
        if view not in links:
            links[view] = RowLink(view, ROW)
        return links[view]

    rows = []
    for activity in activities:
        subject, subject_id = activity.subject_type, activity.subject_id
        if subject in SUBJECT_PAGES:
            url = link(SUBJECT_PAGES[subject])(subject_id)
        elif subject in SUBJECT_TABS:
            view, anchor = SUBJECT_TABS[subject]
            start = quote(subject_id, safe="/")
            url = f"{link(view)(activity.customer_id)}?from={start}#{anchor}-{start}"
        else:
            url = ""
        rows.append(
            TimelineRow(
                pk=str(activity.pk),
                kind=activity.kind,
                channel=activity.channel,
                icon=timeline_icon(activity),
                url=url,
                summary=activity.summary,
                iso=formats.iso(activity.occurred_at, zone),
                full=formats.full_date_time_zone(activity.occurred_at, zone),
                when=(
                    f"{formats.natural_day(activity.occurred_at, zone)}, "
                    f"{formats.clock(activity.occurred_at, zone)}"
                ),
                channel_icon=channel_icon(activity.channel),
                channel_label=activity.get_channel_display(),
                store=activity.store.name if activity.store else "",
                has_actor=activity.actor is not None,
                actor=_actor(activity) if activity.actor is not None else "",
                detail=activity.detail,
            )
        )
    return rows


def _actor(activity: Activity) -> str:
    """Who did it and in which role ("Ana Ruiz, Call-center rep"); a comment's summary already
    names its author ("Comment by Ana Ruiz"), so only the role."""
    role = activity.get_actor_role_display()
    if activity.kind == ActivityKind.COMMENT_ADDED:
        return role
    return f"{activity.actor}, {role}" if activity.actor_role else f"{activity.actor}{role}"


class ContactRow(TypedDict):
    """A contact point as her contact details list it."""

    kind: str
    value: str
    phone: str  # a phone number as staff read it; "" for other kinds
    source: str
    verified: bool
    first_seen: str
    since: str


class OrderRow(TypedDict):
    """One of her recent orders as the 360 page lists it."""

    url: str
    number: str
    channel_label: str
    store: str
    placed: str
    total: str
    status: str
    status_label: str


class InquiryRow(TypedDict):
    """One of her latest inquiries as the 360 page lists it."""

    url: str
    reference: str
    subject: str
    channel_label: str
    queue: str
    created: str
    rating: int | None
    status: str
    status_label: str


def _contact_rows(customer: Customer, zone: tzinfo) -> list[ContactRow]:
    # The contact points are prefetched with the customer: no query.
    return [
        ContactRow(
            kind=point.kind,
            value=point.value,
            phone=format_phone(point.value) if point.kind == ContactKind.PHONE else "",
            source=point.get_source_display().lower(),
            verified=point.verified,
            first_seen=formats.short_date(point.created_at, zone),
            since=formats.month_year(point.created_at, zone),
        )
        for point in customer.contact_points.all()
    ]


def _order_rows(orders: Iterable[Order], zone: tzinfo) -> list[OrderRow]:
    link = RowLink("orders:detail", ROW)
    return [
        OrderRow(
            url=link(order.number),
            number=order.number,
            channel_label=order.get_channel_display(),
            store=order.store.name if order.store else "",
            placed=formats.short_date(order.placed_at, zone),
            total=formats.amount(order.total),
            status=order.status,
            status_label=order.get_status_display(),
        )
        for order in orders
    ]


def _inquiry_rows(inquiries: Iterable[Inquiry], zone: tzinfo) -> list[InquiryRow]:
    link = RowLink("tickets:inquiry", ROW)
    return [
        InquiryRow(
            url=link(inquiry.pk),
            reference=inquiry.reference,
            subject=inquiry.subject,
            channel_label=inquiry.get_channel_display(),
            queue=inquiry.queue.name if inquiry.queue else "",
            created=formats.short_date(inquiry.created_at, zone),
            rating=inquiry.rating,
            status=inquiry.status,
            status_label=inquiry.get_status_display(),
        )
        for inquiry in inquiries
    ]


def _timeline_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    channel = request.GET.get("channel", "")
    kind = request.GET.get("kind", "")
    page = selectors.customer_timeline(
        customer=customer,
        viewer=request.user,
        channel=channel,
        kind=kind,
        before=request.GET.get("before", ""),
    )
    return {
        "customer": customer,
        "timeline": page,
        "timeline_rows": _timeline_rows(page.activities, timezone.get_current_timezone()),
        "channel": channel,
        "kind": kind,
        "channel_choices": Channel.choices,
        "kind_choices": ActivityKind.choices,
    }


@require(can_view_customers)
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    # Her insight and its thresholds come with her record: no query of their own.
    customer = insight_selectors.customer_with_insight(customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    if customer.merged_into_id:
        messages.info(request, f"Record #{customer.pk} was merged into this one.")
        return redirect(_survivor(customer))
    audit_record(actor=cast(User, request.user), action="customer.view", obj=customer)
    return _render_detail(
        request, customer, CommentForm(stores=_comment_stores(cast(User, request.user)))
    )


def _survivor(customer: Customer) -> Customer:
    while customer.merged_into is not None:
        customer = customer.merged_into
    return customer


def _phones(customer: Customer) -> list[str]:
    # The contact points are prefetched with the customer: no query.
    return [
        format_phone(point.value)
        for point in customer.contact_points.all()
        if point.kind == ContactKind.PHONE
    ]


def _render_detail(
    request: HttpRequest,
    customer: Customer,
    form: CommentForm,
    status: int = 200,
    *,
    call_form: LogCallForm | None = None,
    callback_form: CallbackRequestForm | None = None,
) -> HttpResponse:
    context = _timeline_context(request, customer)
    recent_orders = selectors.recent_orders(customer=customer)
    inquiries = customer_inquiries(customer=customer, user=request.user)
    zone = timezone.get_current_timezone()
    context.update(
        figures=selectors.customer_figures(customer=customer),
        contact_rows=_contact_rows(customer, zone),
        order_rows=_order_rows(recent_orders, zone),
        comment_form=form if can_comment(request.user) else None,
        inquiries=inquiries,
        inquiry_rows=_inquiry_rows(inquiries.latest, zone),
        call_form=call_form or LogCallForm(orders=recent_orders),
        callback_form=callback_form or CallbackRequestForm(phones=_phones(customer)),
        open_phone_form="call" if call_form else "callback" if callback_form else "",
        insight=insight_selectors.insight_panel_for(customer),
        can_set_insight_thresholds=can_set_insight_thresholds(request.user),
    )
    return render(request, "customers/detail.html", context, status=status)


def _add_service_errors(
    form: LogCallForm | CallbackRequestForm, error: ValidationError, fields: dict[str, str]
) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, problems in error.message_dict.items():
        form.add_error(fields.get(name) if fields.get(name) in form.fields else None, problems)


def _phone_form_customer(customer_id: int) -> Customer:
    customer = _live_customer(customer_id)
    return _survivor(customer) if customer.merged_into_id else customer


@require_POST
@require(can_view_customers)
def call_log(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A phone call written down from the 360 page becomes an inquiry on the phone channel."""
    customer = _phone_form_customer(customer_id)
    orders = selectors.recent_orders(customer=customer)
    form = LogCallForm(request.POST, orders=orders)
    if form.is_valid():
        data = form.cleaned_data
        order: Order | None = next((o for o in orders if o.number == data["order"]), None)
        try:
            inquiry = inquiry_log_call(
                customer=customer,
                subject=data["subject"],
                text=data["text"],
                order=order,
                resolved=data["status"] == InquiryStatus.RESOLVED,
                actor=cast(User, request.user),
            )
        except ValidationError as error:
            _add_service_errors(
                form, error, {"subject": "subject", "text": "text", "order": "order"}
            )
        else:
            state = "resolved" if inquiry.status == InquiryStatus.RESOLVED else "open"
            messages.success(request, f"Call logged as {inquiry.reference} ({state}).")
            return redirect(f"{customer.get_absolute_url()}#inquiries-title")
    comment_form = CommentForm(stores=_comment_stores(cast(User, request.user)))
    return _render_detail(request, customer, comment_form, status=400, call_form=form)


@require_POST
@require(can_view_customers)
def callback_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A rep asks, on the customer's behalf, for a call at a phone number and time window."""
    customer = _phone_form_customer(customer_id)
    user = cast(User, request.user)
    form = CallbackRequestForm(request.POST, phones=_phones(customer))
    if form.is_valid():
        start, end = form.window()
        try:
            callback = callback_request(
                customer=customer,
                phone=form.cleaned_data["phone"],
                window_start=start,
                window_end=end,
                note=form.cleaned_data["note"],
                channel=Channel.STORE if is_store_staff(user) else Channel.PHONE,
                actor=user,
            )
        except ValidationError as error:
            _add_service_errors(form, error, CallbackRequestForm.SERVICE_FIELDS)
        else:
            messages.success(
                request,
                f"Call-back requested ({callback.inquiry.reference}): "
                f"{callback_window_label(start, end)}.",
            )
            return redirect(f"{customer.get_absolute_url()}#inquiries-title")
    comment_form = CommentForm(stores=_comment_stores(user))
    return _render_detail(request, customer, comment_form, status=400, callback_form=form)


@require(can_view_customers)
def customer_timeline(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """The timeline list alone: htmx swaps it in for filters and "older" paging."""
    customer = _live_customer(customer_id)
    if customer.merged_into_id:
        return redirect(_survivor(customer))
    if not request.htmx:
        return redirect(f"{customer.get_absolute_url()}?{request.GET.urlencode()}")
    if request.GET.get("before"):
        return render(
            request, "customers/_timeline_page.html", _timeline_context(request, customer)
        )
    response = render(request, "customers/_timeline.html", _timeline_context(request, customer))
    # The address bar shows the customer page with the filters, which reloads and restores whole.
    filters = {name: request.GET[name] for name in ("channel", "kind") if request.GET.get(name)}
    return push_url(response, f"{customer.get_absolute_url()}?{urlencode(filters)}".rstrip("?"))


@require_POST
@require(can_comment)
def comment_create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    customer = _live_customer(customer_id)
    if customer.merged_into_id:
        customer = _survivor(customer)
    user = cast(User, request.user)
    stores = _comment_stores(user)
    form = CommentForm(request.POST, stores=stores)
    comment = None
    if form.is_valid():
        try:
            comment = services.comment_add(
                customer=customer,
                author=user,
                body=form.cleaned_data["body"],
                store=form.cleaned_data.get("store"),
            )
        except ValidationError as error:
            form.add_error(None, error)
    if request.htmx:
        if comment is None:
            return render(
                request,
                "customers/_comment_form.html",
                {"customer": customer, "comment_form": form},
            )
        activities = selectors.comment_activities(comment=comment)
        return render(
            request,
            "customers/_comment_added.html",
            {
                "customer": customer,
                "comment_form": CommentForm(stores=stores),
                "activities": activities,
                "timeline_rows": _timeline_rows(activities, timezone.get_current_timezone()),
            },
        )
    if comment is None:
        return _render_detail(request, customer, form, status=400)
    messages.success(request, "Comment added.")
    return redirect(customer)


@require(can_merge_customers)
def merge_suggestion_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.merge_suggestions_open(), 20).get_page(request.GET.get("page"))
    return render(request, "customers/merge_list.html", {"page": page})


@require(can_merge_customers)
def merge_suggestion_detail(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    suggestion = selectors.merge_suggestion_for_page(suggestion_id=suggestion_id)
    if suggestion is None:
        raise Http404("This suggestion was already decided.")
    a, b = suggestion.customer_a, suggestion.customer_b
    form = MergeForm(request.POST or None, choices=[(a.pk, str(a)), (b.pk, str(b))])
    if request.method == "POST":
        if form.is_valid():
            survivor_id = form.cleaned_data["survivor"]
            survivor, merged = (a, b) if survivor_id == a.pk else (b, a)
            try:
                services.customer_merge(
                    survivor=survivor, merged=merged, actor=cast(User, request.user)
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Record #{merged.pk} merged into #{survivor.pk}.")
                return redirect(survivor)
    else:
        # Suggest keeping the record with more history.
        keep = a if getattr(a, "order_count", 0) >= getattr(b, "order_count", 0) else b
        form.initial["survivor"] = keep.pk
    return render(
        request,
        "customers/merge_detail.html",
        {"suggestion": suggestion, "form": form, "pair": [a, b]},
        status=400 if form.errors else 200,
    )


@require_POST
@require(can_merge_customers)
def merge_suggestion_dismiss(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    suggestion = MergeSuggestion.objects.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise Http404("No such suggestion.")
    services.merge_suggestion_dismiss(suggestion=suggestion, actor=cast(User, request.user))
    messages.success(request, "Marked as different people; this pair won't be suggested again.")
    return redirect(reverse("customers:merge_list"))


@require(can_set_insight_thresholds)
def insight_thresholds(request: HttpRequest) -> HttpResponse:
    """Supervisors and admins set when the insight flags are raised; every page shows the change
    at once, since flags are judged when they are read."""
    current = insight_thresholds_current()
    form = InsightThresholdsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            insight_thresholds_update(
                actor=cast(User, request.user),
                values={name: form.cleaned_data[name] for name in form.fields},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Insight thresholds saved: every page uses them now.")
            return redirect("customers:insight_thresholds")
    stored = insight_thresholds_current() if request.method == "POST" else current
    return render(
        request,
        "customers/insight_settings.html",
        {"form": form, "stored": stored},
        status=400 if form.errors else 200,
    )
