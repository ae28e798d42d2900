"""The access-control matrix: every page and API operation, for every role ("Nobody sees what
isn't theirs", RELIABILITY.md).

Roles: anonymous, customer A and customer B (portal users, each linked to her own customer
record with orders and inquiries), an associate of store 1, the manager of store 2, a call-center
rep, a supervisor, and an integration token of store 1 (the till system: customers, orders and
inquiries read and write, the store channel only, store 1 only). Tokens only count for /api/.

The rules the matrix encodes are the product's (crm/permissions.py, the views and selectors):
- every employee may look any customer, order, product and stock level up;
- a store's console (/stores/<code>/...) is for its own staff and for supervisors and admins;
  any other store is 404, as if it did not exist; call-center reps have no store console;
- store staff see (and note on) the inquiries reported at their stores only; replying, changing,
  assigning and merging are the call center's work;
- routing rules, merges and insight thresholds are for supervisors and admins;
- reports are for store managers (their stores) and supervisors; CSV imports for admins;
- a customer sees her own inquiries and their public files only; a tracking link shows its one
  inquiry to whoever holds it, and nothing else;
- the API goes by scope: a token's scopes, or the scopes an employee's role implies (customers:
  none); writes only in a token's channels and for its stores, and store staff only for the
  stores they work at; pickups and returns are listed for the caller's stores only;
- inbound mail endpoints answer to the mail gateway's secret or the provider's signature, no role.

Every URL pattern of crm.urls and every operation of the OpenAPI schema must have an entry here,
or `test_every_url_and_api_operation_has_a_matrix_entry` fails naming it: who may use a new
address is decided when it is added. Excluded, and only these: the Django admin (admin/..., one
check of its own below: only admins get in) and allauth's account pages (accounts/..., the
sign-in, sign-out and password pages everyone must reach).

"Allowed" means authorization passed: any answer but 401, 403, 404, 429, 5xx or a redirect to the
sign-in page (a POST with an empty body answering 400 is fine). "Refused" means 403 or 404 for
signed-in users and tokens; for anonymous users a redirect to the sign-in page, 401, 403 or 404.
The refused requests all run first, and must leave the database as they found it.

Lists hold no foreign rows: `test_lists_hold_no_foreign_rows` reads each role's lists (portal,
counters, desks, queues, the knowledge base, reports, API lists) for others' order numbers,
e-mail addresses and inquiry references.
"""

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, cast

import pytest
from django.db.models import Model
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from crm.models import AuditEntry, Channel, IdempotencyKey, OutboundEmail, Role, Scope, User
from crm.services import token_create
from customers.models import (
    Activity,
    Comment,
    ContactKind,
    ContactPoint,
    Customer,
    MergeSuggestion,
    Touch,
)
from customers.services import Identity
from orders.models import (
    ItemCondition,
    Order,
    OrderLine,
    Pickup,
    Product,
    Return,
    ReturnReason,
    ReturnStatus,
)
from orders.services import LineInput, order_record
from orders.services.returns import return_create, return_request_online
from stores.models import StockAction, Store, StoreRole
from stores.services import stock_adjust
from tests.customers.factories_engagement import sent_offer
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    ProductFactory,
    QueueFactory,
    StoreFactory,
    UserFactory,
    store_staff,
)
from tests.tickets.factories_knowledge import article
from tickets.models import (
    Article,
    ArticleDeflection,
    Attachment,
    CallbackRequest,
    Inquiry,
    Message,
    RoutingRule,
)
from tickets.services.callbacks import callback_request
from tickets.services.inquiries import AttachmentFile, IncomingMessage, inquiry_open
from tickets.services.workspace import inquiry_note_add

# The roles ------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
CUSTOMER_A = "customer A"
CUSTOMER_B = "customer B"
ASSOCIATE_1 = "associate of store 1"
MANAGER_2 = "manager of store 2"
REP = "rep"
SUPERVISOR = "supervisor"
TOKEN_1 = "token of store 1"

WEB_ROLES = (ANONYMOUS, CUSTOMER_A, CUSTOMER_B, ASSOCIATE_1, MANAGER_2, REP, SUPERVISOR)
API_ROLES = (*WEB_ROLES, TOKEN_1)

Roles = frozenset[str]
NOBODY: Roles = frozenset()
CUSTOMERS: Roles = frozenset({CUSTOMER_A, CUSTOMER_B})
STAFF: Roles = frozenset({ASSOCIATE_1, MANAGER_2, REP, SUPERVISOR})
CALL_CENTER: Roles = frozenset({REP, SUPERVISOR})
SIGNED_IN: Roles = CUSTOMERS | STAFF
EVERYONE: Roles = frozenset(API_ROLES)
# Store consoles: a store's own staff, and supervisors at every store.
AT_STORE_1: Roles = frozenset({ASSOCIATE_1, SUPERVISOR})
AT_STORE_2: Roles = frozenset({MANAGER_2, SUPERVISOR})
# Inquiries: the call center sees all, store staff those reported at their stores.
SEES_INQUIRY_1: Roles = CALL_CENTER | {ASSOCIATE_1}
SEES_INQUIRY_2: Roles = CALL_CENTER | {MANAGER_2}
# The API: employees by their role's scopes, the token by its own.
READS_API: Roles = STAFF | {TOKEN_1}
MARKETING_WRITERS: Roles = CALL_CENTER
SUPERVISORS: Roles = frozenset({SUPERVISOR})
REPORT_READERS: Roles = frozenset({MANAGER_2, SUPERVISOR})

# Each request comes from an address of its own, so that the per-IP rate limits of the public
# pages (the contact form, tracking links, article votes) never answer 429 in the matrix.
_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))

# The data -------------------------------------------------------------------------------------

A_EMAIL = "ann.archer@example.com"
B_EMAIL = "bea.brown@example.com"
PHONE = "(415) 555-0100"
NOTE = "Internal note: she showed her ID"


@dataclass
class World:
    """Two stores, two customers with portal accounts and everything that can be theirs."""

    store_1: Store
    store_2: Store
    users: dict[str, User]
    token: str
    admin: User
    customer_a: Customer
    customer_b: Customer
    product: Product
    sale_1: Order  # A's till sale at store 1
    sale_2: Order  # B's till sale at store 2
    pickup_1: Pickup  # A's web order, collected at store 1
    pickup_2: Pickup  # B's web order, collected at store 2
    return_1: Return  # taken back at store 1
    return_2: Return  # taken back at store 2
    awaiting: list[Return]  # A's returns started online, waiting for their parcel
    inquiry_a: Inquiry  # A's own, from the portal, with a photo
    inquiry_b: Inquiry  # B's, from the web form
    inquiry_1: Inquiry  # A's, reported at store 1
    inquiry_2: Inquiry  # B's, reported at store 2, with a photo
    file_a: Attachment  # on A's message
    note_file_a: Attachment  # on an internal note of A's inquiry
    file_2: Attachment  # on B's message at store 2
    file_b: Attachment  # on B's web-form message
    callback_a: CallbackRequest
    callback_1: CallbackRequest
    callback_2: CallbackRequest
    suggestion: MergeSuggestion
    suggestion_to_dismiss: MergeSuggestion
    rule: RoutingRule
    rule_to_delete: RoutingRule
    article: Article
    draft: Article
    touch: Touch

    def awaiting_return(self) -> Return:
        """A return still waiting for its parcel: receiving one uses it up."""
        for candidate in self.awaiting:
            candidate.refresh_from_db(fields=["status"])
            if candidate.status == ReturnStatus.AWAITING_ITEMS:
                return candidate
        raise AssertionError("Every return started online was received: make more.")


def _customer_with_account(email: str, first: str, last: str) -> tuple[User, Customer]:
    user: User = UserFactory.create(
        role=Role.CUSTOMER, email=email, first_name=first, last_name=last
    )
    customer: Customer = CustomerFactory.create(user=user, first_name=first, last_name=last)
    ContactPointFactory.create(customer=customer, kind=ContactKind.EMAIL, value=email)
    return user, customer


def _photo(name: str) -> tuple[AttachmentFile, ...]:
    return (AttachmentFile(filename=name, content_type="image/jpeg", content=b"\xff\xd8\xff"),)


def _till_sale(store: Store, email: str, actor: User) -> Order:
    return order_record(
        identity=Identity(email=email),
        channel=Channel.STORE,
        store=store,
        lines=[LineInput(sku="JKT-RAIN", quantity=2)],
        actor=actor,
    )


def _pickup_order(store: Store, email: str) -> Pickup:
    order = order_record(
        identity=Identity(email=email),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=1)],
        fulfilment="pickup",
        pickup_store=store,
    )
    return Pickup.objects.get(order=order)


def _one_back(order: Order) -> list[tuple[OrderLine, int, str, str]]:
    return [(order.lines.get(), 1, ReturnReason.DOES_NOT_FIT, ItemCondition.RESELLABLE)]


def _callback(customer: Customer, inquiry: Inquiry, actor: User) -> CallbackRequest:
    start = (timezone.localtime() + timedelta(days=1)).replace(hour=10, minute=0, second=0)
    return callback_request(
        customer=customer,
        phone=PHONE,
        window_start=start,
        window_end=start + timedelta(hours=2),
        channel=Channel.PHONE,
        actor=actor,
        inquiry=inquiry,
    )


def build_world() -> World:
    store_1 = StoreFactory.create(code="union", name="Union Square")
    store_2 = StoreFactory.create(code="mission", name="Mission Street")
    admin: User = UserFactory.create(
        role=Role.ADMIN, is_staff=True, is_superuser=True, email="admin@example.com"
    )
    user_a, customer_a = _customer_with_account(A_EMAIL, "Ann", "Archer")
    user_b, customer_b = _customer_with_account(B_EMAIL, "Bea", "Brown")
    associate = store_staff(store_1, StoreRole.ASSOCIATE, email="associate@example.com")
    manager = store_staff(store_2, StoreRole.MANAGER, email="manager@example.com")
    rep: User = UserFactory.create(role=Role.REP, email="rep@example.com")
    supervisor: User = UserFactory.create(role=Role.SUPERVISOR, email="supervisor@example.com")
    _, token = token_create(
        name="Union Square till",
        scopes=[
            Scope.CUSTOMERS_READ,
            Scope.CUSTOMERS_WRITE,
            Scope.ORDERS_READ,
            Scope.ORDERS_WRITE,
            Scope.INQUIRIES_READ,
            Scope.INQUIRIES_WRITE,
        ],
        channels=[Channel.STORE],
        stores=[store_1],
        actor=admin,
    )

    product: Product = ProductFactory.create(sku="JKT-RAIN", name="Rain jacket")
    for store in (store_1, store_2):
        stock_adjust(store=store, product=product, action=StockAction.RECEIVE, quantity=20)
    sale_1 = _till_sale(store_1, A_EMAIL, associate)
    sale_2 = _till_sale(store_2, B_EMAIL, manager)
    shipped_a = order_record(
        identity=Identity(email=A_EMAIL),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=6)],
    )
    order_record(
        identity=Identity(email=B_EMAIL),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=1)],
    )
    pickup_1 = _pickup_order(store_1, A_EMAIL)
    pickup_2 = _pickup_order(store_2, B_EMAIL)
    return_1 = return_create(order=sale_1, lines=_one_back(sale_1), store=store_1, actor=associate)
    return_2 = return_create(order=sale_2, lines=_one_back(sale_2), store=store_2, actor=manager)
    awaiting = [
        return_request_online(order=shipped_a, lines=_one_back(shipped_a), actor=user_a)
        for _ in range(4)
    ]

    inquiry_a = inquiry_open(
        channel=Channel.PORTAL,
        customer=customer_a,
        identity=Identity(email=A_EMAIL),
        subject="Zip of the rain jacket broke",
        message=IncomingMessage(text="Ann writes about the zip", attachments=_photo("ann.jpg")),
        actor=user_a,
    )
    inquiry_b = inquiry_open(
        channel=Channel.WEB_FORM,
        identity=Identity(email=B_EMAIL),
        subject="Parcel from the web shop is late",
        message=IncomingMessage(text="Bea writes about the parcel", attachments=_photo("bea.jpg")),
    )
    inquiry_1 = inquiry_open(
        channel=Channel.STORE,
        customer=customer_a,
        identity=Identity(email=A_EMAIL),
        subject="Sleeve seam came apart",
        message=IncomingMessage(text="Ann showed the seam at the counter"),
        store=store_1,
        actor=associate,
    )
    inquiry_2 = inquiry_open(
        channel=Channel.STORE,
        customer=customer_b,
        identity=Identity(email=B_EMAIL),
        subject="Hood button missing",
        message=IncomingMessage(
            text="Bea showed the hood at the counter", attachments=_photo("bea-2.jpg")
        ),
        store=store_2,
        actor=manager,
    )
    file_a = Attachment.objects.get(message__inquiry=inquiry_a)
    note = inquiry_note_add(inquiry=inquiry_a, text=NOTE, actor=rep)
    note_file_a = Attachment.objects.create(
        message=note,
        filename="id-scan.jpg",
        content_type="image/jpeg",
        size=file_a.size,
        file=file_a.file.name,
    )

    pair = sorted(
        (CustomerFactory.create(), CustomerFactory.create(), CustomerFactory.create()),
        key=lambda customer: customer.pk,
    )
    queue = QueueFactory.create()
    return World(
        store_1=store_1,
        store_2=store_2,
        users={
            CUSTOMER_A: user_a,
            CUSTOMER_B: user_b,
            ASSOCIATE_1: associate,
            MANAGER_2: manager,
            REP: rep,
            SUPERVISOR: supervisor,
        },
        token=token,
        admin=admin,
        customer_a=customer_a,
        customer_b=customer_b,
        product=product,
        sale_1=sale_1,
        sale_2=sale_2,
        pickup_1=pickup_1,
        pickup_2=pickup_2,
        return_1=return_1,
        return_2=return_2,
        awaiting=awaiting,
        inquiry_a=inquiry_a,
        inquiry_b=inquiry_b,
        inquiry_1=inquiry_1,
        inquiry_2=inquiry_2,
        file_a=file_a,
        note_file_a=note_file_a,
        file_2=Attachment.objects.get(message__inquiry=inquiry_2),
        file_b=Attachment.objects.get(message__inquiry=inquiry_b),
        callback_a=_callback(customer_a, inquiry_a, rep),
        callback_1=_callback(customer_a, inquiry_1, associate),
        callback_2=_callback(customer_b, inquiry_2, manager),
        suggestion=MergeSuggestion.objects.create(
            customer_a=pair[0], customer_b=pair[1], reason="Same phone number"
        ),
        suggestion_to_dismiss=MergeSuggestion.objects.create(
            customer_a=pair[0], customer_b=pair[2], reason="Same postcode and name"
        ),
        rule=RoutingRule.objects.create(name="Pickups to the stores team", queue=queue),
        rule_to_delete=RoutingRule.objects.create(name="Old rule", queue=queue, position=1),
        article=article("How store pickup works", published=True, actor=rep),
        draft=article("Unannounced returns policy", published=False, actor=rep),
        touch=sent_offer(customer_a),
    )


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path
    # Nobody signs in with a password here (force_login): no need for a slow hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The inbound endpoints are on, so that they answer to their own credentials.
    settings.CRM_INBOUND_EMAIL_SECRET = "gateway-secret"
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "mailgun-key"}
    return build_world()


# The matrix -----------------------------------------------------------------------------------

Kwargs = Callable[[World], dict[str, Any]]
Body = Callable[[World], dict[str, Any]]


def _none(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    """One object (or none) to ask for, and the roles that may: every other role is refused."""

    allowed: Roles
    label: str = ""
    kwargs: Kwargs = _none
    # A POST's body; None sends an empty one.
    body: Body | None = None
    # A GET's query string.
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """What the matrix asks of one URL name or API operation: each method, for each case."""

    methods: tuple[str, ...]
    cases: tuple[Case, ...]
    # Answers that also count as a refusal: the inbound endpoints answer to a secret, not a role.
    refused_with: frozenset[int] = frozenset()


def page(allowed: Roles, kwargs: Kwargs = _none) -> Entry:
    return Entry(("GET",), (Case(allowed, kwargs=kwargs),))


def form(allowed: Roles, kwargs: Kwargs = _none) -> Entry:
    """A page that shows a form and takes it back: both methods are checked."""
    return Entry(("GET", "POST"), (Case(allowed, kwargs=kwargs),))


def action(allowed: Roles, kwargs: Kwargs = _none) -> Entry:
    """A POST-only action, sent an empty body."""
    return Entry(("POST",), (Case(allowed, kwargs=kwargs),))


def pages(*cases: Case) -> Entry:
    return Entry(("GET",), cases)


def forms(*cases: Case) -> Entry:
    return Entry(("GET", "POST"), cases)


def actions(*cases: Case) -> Entry:
    return Entry(("POST",), cases)


def store_1(world: World) -> dict[str, Any]:
    return {"code": world.store_1.code}


def store_2(world: World) -> dict[str, Any]:
    return {"code": world.store_2.code}


STORE_CONSOLE = (Case(AT_STORE_1, "store 1", store_1), Case(AT_STORE_2, "store 2", store_2))


def customer_a(world: World) -> dict[str, Any]:
    return {"customer_id": world.customer_a.pk}


# An inquiry reported at each store, and one from a customer's portal (no store).
INQUIRIES = (
    Case(SEES_INQUIRY_1, "reported at store 1", lambda w: {"inquiry_id": w.inquiry_1.pk}),
    Case(SEES_INQUIRY_2, "reported at store 2", lambda w: {"inquiry_id": w.inquiry_2.pk}),
    Case(CALL_CENTER, "A's from the portal", lambda w: {"inquiry_id": w.inquiry_a.pk}),
)


# What only the call center does to an inquiry, even one reported at a store of one's own.
CALL_CENTER_WORK = actions(
    Case(CALL_CENTER, "reported at store 1", lambda w: {"inquiry_id": w.inquiry_1.pk}),
    Case(CALL_CENTER, "reported at store 2", lambda w: {"inquiry_id": w.inquiry_2.pk}),
)


# A customer's inquiry in her portal: hers alone; staff have no portal.
PORTAL = (
    Case(frozenset({CUSTOMER_A}), "A's inquiry", lambda w: {"key": w.inquiry_a.reference}),
    Case(frozenset({CUSTOMER_B}), "B's inquiry", lambda w: {"key": w.inquiry_b.reference}),
)
# The tracking link is the key: whoever holds it; nothing that is not exactly one.
TRACKING = (
    Case(EVERYONE, "A's link", lambda w: {"token": w.inquiry_a.tracking_token}),
    Case(NOBODY, "a guessed link", lambda w: {"token": w.inquiry_a.tracking_token[::-1]}),
    Case(NOBODY, "A's reference for a link", lambda w: {"token": w.inquiry_a.reference}),
)


PAGES: dict[str, Entry] = {
    "home": page(SIGNED_IN),
    "account_home": page(SIGNED_IN),
    # Her own data as a download: only a person with a customer record has any.
    "account_data": page(CUSTOMERS),
    "healthz": page(EVERYONE),
    "bench_floor": page(EVERYONE),
    # The 360 page and its parts: every employee looks any customer up.
    "customers:search": page(STAFF),
    "customers:detail": page(STAFF, customer_a),
    "customers:timeline": page(STAFF, customer_a),
    "customers:comment_create": action(STAFF, customer_a),
    "customers:call_log": action(STAFF, customer_a),
    "customers:callback_request": action(STAFF, customer_a),
    "customers:offers": page(STAFF, customer_a),
    "customers:visits": page(STAFF, customer_a),
    "customers:wishlist": page(STAFF, customer_a),
    "customers:carts": page(STAFF, customer_a),
    "customers:recent_offers": page(STAFF, customer_a),
    "customers:insight_thresholds": form(SUPERVISORS),
    "customers:merge_list": page(SUPERVISORS),
    "customers:merge_detail": form(SUPERVISORS, lambda w: {"suggestion_id": w.suggestion.pk}),
    "customers:merge_dismiss": action(
        SUPERVISORS, lambda w: {"suggestion_id": w.suggestion_to_dismiss.pk}
    ),
    # Orders and products: every employee, whichever store or channel.
    "orders:detail": page(STAFF, lambda w: {"number": w.sale_2.number}),
    "products:search": page(STAFF),
    "products:detail": page(STAFF, lambda w: {"sku": w.product.sku}),
    # A store's console: its staff and supervisors; any other store is 404.
    "stores:index": page(STAFF),
    "stores:dashboard": pages(*STORE_CONSOLE),
    "stores:pickups": pages(*STORE_CONSOLE),
    "stores:pickup_action": actions(
        # "collect" without a code on a pickup still being prepared: refused by the counter,
        # after the access checks, so that nothing changes even for those allowed.
        Case(
            AT_STORE_1,
            "store 1's pickup",
            lambda w: {**store_1(w), "pickup_id": w.pickup_1.pk, "action": "collect"},
        ),
        Case(
            AT_STORE_2,
            "store 2's pickup",
            lambda w: {**store_2(w), "pickup_id": w.pickup_2.pk, "action": "collect"},
        ),
        Case(
            NOBODY,
            "store 2's pickup at store 1's counter",
            lambda w: {**store_1(w), "pickup_id": w.pickup_2.pk, "action": "collect"},
        ),
    ),
    "stores:order_new": forms(*STORE_CONSOLE),
    "stores:inquiry_new": forms(*STORE_CONSOLE),
    "stores:returns": pages(*STORE_CONSOLE),
    "stores:returns_today": pages(*STORE_CONSOLE),
    # Any customer and any order may be served at a store's returns desk.
    "stores:returns_customer": pages(
        Case(AT_STORE_1, "store 1", lambda w: {**store_1(w), **customer_a(w)}),
        Case(AT_STORE_2, "store 2", lambda w: {**store_2(w), **customer_a(w)}),
    ),
    "stores:returns_order": actions(
        Case(AT_STORE_1, "store 1", lambda w: {**store_1(w), "number": w.sale_2.number}),
        Case(AT_STORE_2, "store 2", lambda w: {**store_2(w), "number": w.sale_1.number}),
    ),
    # Any store receives a return started online; each receipt allowed uses one up.
    "stores:return_receive": actions(
        Case(AT_STORE_1, "store 1", lambda w: {**store_1(w), "number": w.awaiting_return().number}),
        Case(AT_STORE_2, "store 2", lambda w: {**store_2(w), "number": w.awaiting_return().number}),
    ),
    "stores:return_receipt": pages(
        Case(AT_STORE_1, "store 1's", lambda w: {**store_1(w), "number": w.return_1.number}),
        Case(AT_STORE_2, "store 2's", lambda w: {**store_2(w), "number": w.return_2.number}),
        Case(NOBODY, "store 1's at store 2", lambda w: {**store_2(w), "number": w.return_1.number}),
    ),
    # The agent workspace.
    "tickets:queue": page(STAFF),
    "tickets:callbacks": page(STAFF),
    "tickets:callback_outcome": actions(
        Case(SEES_INQUIRY_1, "at store 1", lambda w: {"callback_id": w.callback_1.pk}),
        Case(SEES_INQUIRY_2, "at store 2", lambda w: {"callback_id": w.callback_2.pk}),
        Case(CALL_CENTER, "A's from the portal", lambda w: {"callback_id": w.callback_a.pk}),
    ),
    "tickets:inquiry": pages(*INQUIRIES),
    "tickets:note": actions(*INQUIRIES),
    "tickets:reply": CALL_CENTER_WORK,
    "tickets:status": CALL_CENTER_WORK,
    "tickets:priority": CALL_CENTER_WORK,
    "tickets:move": CALL_CENTER_WORK,
    "tickets:assign": CALL_CENTER_WORK,
    "tickets:tags": CALL_CENTER_WORK,
    "tickets:merge": CALL_CENTER_WORK,
    "tickets:link_order": CALL_CENTER_WORK,
    "tickets:rules": page(SUPERVISORS),
    "tickets:rule_create": form(SUPERVISORS),
    "tickets:rule_edit": form(SUPERVISORS, lambda w: {"rule_id": w.rule.pk}),
    "tickets:rule_move": action(SUPERVISORS, lambda w: {"rule_id": w.rule.pk}),
    "tickets:rule_toggle": action(SUPERVISORS, lambda w: {"rule_id": w.rule.pk}),
    "tickets:rule_delete": action(SUPERVISORS, lambda w: {"rule_id": w.rule_to_delete.pk}),
    # A file: staff who may open its inquiry, and its customer when it is on a public message.
    "tickets:attachment": pages(
        Case(CALL_CENTER | {CUSTOMER_A}, "A's photo", lambda w: {"pk": w.file_a.pk}),
        Case(CALL_CENTER, "a file on a note of A's", lambda w: {"pk": w.note_file_a.pk}),
        Case(
            SEES_INQUIRY_2 | {CUSTOMER_B},
            "B's photo at store 2",
            lambda w: {"pk": w.file_2.pk},
        ),
    ),
    # The knowledge base: every employee reads what is published, the call center writes.
    "tickets:knowledge:list": page(STAFF),
    "tickets:knowledge:new": form(CALL_CENTER),
    "tickets:knowledge:picker": page(CALL_CENTER),
    "tickets:knowledge:detail": pages(
        Case(STAFF, "published", lambda w: {"article_id": w.article.pk}),
        Case(CALL_CENTER, "draft", lambda w: {"article_id": w.draft.pk}),
    ),
    "tickets:knowledge:edit": form(CALL_CENTER, lambda w: {"article_id": w.article.pk}),
    # An empty POST keeps the draft a draft.
    "tickets:knowledge:publish": action(CALL_CENTER, lambda w: {"article_id": w.draft.pk}),
    # The customer's side.
    "support:contact": form(EVERYONE),
    "support:contact_sent": page(EVERYONE),
    "support:portal": page(CUSTOMERS),
    "support:callback": form(CUSTOMERS),
    "support:help": page(EVERYONE),
    "support:article_suggest": page(EVERYONE),
    "support:article": pages(
        Case(EVERYONE, "published", lambda w: {"slug": w.article.slug}),
        Case(NOBODY, "draft", lambda w: {"slug": w.draft.slug}),
    ),
    "support:article_helped": actions(
        Case(EVERYONE, "published", lambda w: {"slug": w.article.slug}),
        Case(NOBODY, "draft", lambda w: {"slug": w.draft.slug}),
    ),
    "support:portal_inquiry": pages(*PORTAL),
    "support:portal_inquiry_reply": actions(*PORTAL),
    "support:portal_inquiry_reopen": actions(*PORTAL),
    "support:portal_inquiry_rate": actions(*PORTAL),
    "support:portal_inquiry_callback": actions(*PORTAL),
    "support:portal_inquiry_attachment": pages(
        Case(
            frozenset({CUSTOMER_A}),
            "A's photo",
            lambda w: {"key": w.inquiry_a.reference, "attachment_id": w.file_a.pk},
        ),
        Case(
            frozenset({CUSTOMER_B}),
            "B's photo",
            lambda w: {"key": w.inquiry_b.reference, "attachment_id": w.file_b.pk},
        ),
        Case(
            NOBODY,
            "B's photo through A's inquiry",
            lambda w: {"key": w.inquiry_a.reference, "attachment_id": w.file_b.pk},
        ),
        Case(
            NOBODY,
            "A's note file",
            lambda w: {"key": w.inquiry_a.reference, "attachment_id": w.note_file_a.pk},
        ),
    ),
    "support:track": pages(*TRACKING),
    "support:track_reply": actions(*TRACKING),
    "support:track_reopen": actions(*TRACKING),
    "support:track_rate": actions(*TRACKING),
    "support:track_attachment": pages(
        Case(
            EVERYONE,
            "A's photo",
            lambda w: {"token": w.inquiry_a.tracking_token, "attachment_id": w.file_a.pk},
        ),
        Case(
            NOBODY,
            "B's photo through A's link",
            lambda w: {"token": w.inquiry_a.tracking_token, "attachment_id": w.file_b.pk},
        ),
        Case(
            NOBODY,
            "A's note file",
            lambda w: {"token": w.inquiry_a.tracking_token, "attachment_id": w.note_file_a.pk},
        ),
    ),
    # Mail arrives with the gateway's secret or the provider's signature, from no role.
    "inbound:email": Entry(("POST",), (Case(NOBODY),), frozenset({401})),
    "inbound:mailgun": Entry(("POST",), (Case(NOBODY),), frozenset({400, 401})),
    "inbound:mailgun_mime": Entry(("POST",), (Case(NOBODY),), frozenset({400, 401})),
    # The API's documentation holds no data: partners read it before they have a token.
    "api:schema": page(EVERYONE),
    "api:docs": page(EVERYONE),
    "api:redoc": page(EVERYONE),
    # CSV imports: admins (is_staff) only.
    "imports:upload": form(NOBODY),
    # Reports: store managers (their stores) and supervisors.
    "reports:home": page(REPORT_READERS),
    "reports:dashboard": pages(
        Case(REPORT_READERS, "service", lambda w: {"slug": "service"}),
        Case(REPORT_READERS, "stores", lambda w: {"slug": "stores"}),
    ),
    "reports:download": page(
        REPORT_READERS,
        lambda w: {"slug": "stores", "chart": "returns-by-store"},
    ),
}

# Through the API, a store's pickups and returns are seen, and its sales, returns, customers
# and inquiries written, by its staff, the call center and supervisors, and a token of the store.
STORE_1_API: Roles = frozenset({ASSOCIATE_1, REP, SUPERVISOR, TOKEN_1})
STORE_2_API: Roles = frozenset({MANAGER_2, REP, SUPERVISOR})


def _customer_at(code: str) -> Body:
    # Each write allowed finds (or makes) the same walk-in customer.
    return lambda w: {"channel": "store", "store": code, "email": "walk.in@example.com"}


def _sale_at(code: str) -> Body:
    # A pick-up order that names no pickup store: refused after the store check, so that
    # nothing is recorded.
    return lambda w: {
        "customer": {"email": "walk.in@example.com"},
        "channel": "store",
        "store": code,
        "fulfilment": "pickup",
        "lines": [{"sku": w.product.sku, "quantity": 1}],
    }


def _return_at(code: str, sale: Callable[[World], Order]) -> Body:
    # More than was bought: refused after the store check.
    return lambda w: {
        "order": sale(w).number,
        "store": code,
        "lines": [{"line": sale(w).lines.get().pk, "quantity": 99, "reason": "does_not_fit"}],
    }


def _inquiry_at(code: str) -> Body:
    # Not one of her orders: refused after the store check.
    return lambda w: {
        "channel": "store",
        "store": code,
        "customer": w.customer_a.pk,
        "text": "She asked at the counter",
        "order_number": "NO-SUCH-ORDER",
    }


def _customer_id(world: World) -> dict[str, Any]:
    return {"id": world.customer_a.pk}


API: dict[str, Entry] = {
    "GET /api/v1/customers/": pages(Case(READS_API, query={"q": "Archer"})),
    "POST /api/v1/customers/": actions(
        Case(STORE_1_API, "for store 1", body=_customer_at("union")),
        Case(STORE_2_API, "for store 2", body=_customer_at("mission")),
    ),
    "POST /api/v1/customers/bulk/": action(READS_API),
    "GET /api/v1/customers/{id}/": page(READS_API, _customer_id),
    "GET /api/v1/customers/{id}/timeline/": page(READS_API, _customer_id),
    "GET /api/v1/customers/{id}/inquiries/": page(READS_API, _customer_id),
    "POST /api/v1/customers/{id}/merge/": action(SUPERVISORS, _customer_id),
    "POST /api/v1/inquiries/": actions(
        Case(STORE_1_API, "at store 1", body=_inquiry_at("union")),
        Case(STORE_2_API, "at store 2", body=_inquiry_at("mission")),
    ),
    # Tokens read every inquiry; employees those they may open.
    "GET /api/v1/inquiries/{reference}/": pages(
        Case(
            SEES_INQUIRY_1 | {TOKEN_1}, "at store 1", lambda w: {"reference": w.inquiry_1.reference}
        ),
        Case(
            SEES_INQUIRY_2 | {TOKEN_1}, "at store 2", lambda w: {"reference": w.inquiry_2.reference}
        ),
        Case(CALL_CENTER | {TOKEN_1}, "A's portal", lambda w: {"reference": w.inquiry_a.reference}),
    ),
    "POST /api/v1/inquiries/{reference}/messages/": actions(
        Case(
            SEES_INQUIRY_1 | {TOKEN_1},
            "at store 1, empty",
            lambda w: {"reference": w.inquiry_1.reference},
        ),
        # The store channel needs the store: a message allowed is added to the inquiry.
        Case(
            STORE_2_API,
            "at store 2, in the store channel",
            lambda w: {"reference": w.inquiry_2.reference},
            lambda w: {"channel": "store", "text": "She came back about it"},
        ),
        Case(
            CALL_CENTER | {TOKEN_1},
            "A's portal, empty",
            lambda w: {"reference": w.inquiry_a.reference},
        ),
    ),
    "GET /api/v1/orders/": page(READS_API),
    "POST /api/v1/orders/": actions(
        Case(STORE_1_API, "till sale at store 1", body=_sale_at("union")),
        Case(STORE_2_API, "till sale at store 2", body=_sale_at("mission")),
    ),
    "POST /api/v1/orders/bulk/": action(READS_API),
    "GET /api/v1/orders/{number}/": page(READS_API, lambda w: {"number": w.sale_2.number}),
    # A completed till sale can't be delivered: refused after the store check.
    "POST /api/v1/orders/{number}/status/": actions(
        Case(
            STORE_1_API,
            "store 1's sale",
            lambda w: {"number": w.sale_1.number},
            lambda w: {"status": "delivered"},
        ),
        Case(
            STORE_2_API,
            "store 2's sale",
            lambda w: {"number": w.sale_2.number},
            lambda w: {"status": "delivered"},
        ),
    ),
    "GET /api/v1/pickups/": page(READS_API),
    "GET /api/v1/pickups/{id}/": pages(
        Case(STORE_1_API, "store 1's", lambda w: {"id": w.pickup_1.pk}),
        Case(STORE_2_API, "store 2's", lambda w: {"id": w.pickup_2.pk}),
    ),
    "POST /api/v1/pickups/{id}/status/": actions(
        Case(STORE_1_API, "store 1's", lambda w: {"id": w.pickup_1.pk}),
        Case(STORE_2_API, "store 2's", lambda w: {"id": w.pickup_2.pk}),
    ),
    "POST /api/v1/pickups/{id}/collect/": actions(
        Case(STORE_1_API, "store 1's", lambda w: {"id": w.pickup_1.pk}),
        Case(STORE_2_API, "store 2's", lambda w: {"id": w.pickup_2.pk}),
    ),
    "GET /api/v1/returns/": page(READS_API),
    "POST /api/v1/returns/": actions(
        Case(STORE_1_API, "at store 1", body=_return_at("union", lambda w: w.sale_1)),
        Case(STORE_2_API, "at store 2", body=_return_at("mission", lambda w: w.sale_2)),
    ),
    "GET /api/v1/returns/{id}/": pages(
        Case(STORE_1_API, "store 1's", lambda w: {"id": w.return_1.pk}),
        Case(STORE_2_API, "store 2's", lambda w: {"id": w.return_2.pk}),
    ),
    # Marketing: every employee reads, the call center writes; the till has no such scope.
    "GET /api/v1/touches/": page(STAFF),
    "POST /api/v1/touches/": action(MARKETING_WRITERS),
    "GET /api/v1/touches/{id}/": page(STAFF, lambda w: {"id": w.touch.pk}),
    "POST /api/v1/touches/{id}/events/": action(MARKETING_WRITERS, lambda w: {"id": w.touch.pk}),
    "POST /api/v1/touches/bulk/": action(MARKETING_WRITERS),
    "POST /api/v1/web-activity/bulk/": action(MARKETING_WRITERS),
    "POST /api/v1/web-activity/carts/{external_id}/recovered/": action(
        MARKETING_WRITERS, lambda w: {"external_id": "cart-1"}
    ),
    "POST /api/v1/web-activity/carts/abandoned/": action(MARKETING_WRITERS),
    "POST /api/v1/web-activity/visits/": action(MARKETING_WRITERS),
    "POST /api/v1/web-activity/wishlist/": action(MARKETING_WRITERS),
}


# Running the matrix ---------------------------------------------------------------------------

LOGIN_URL = "/accounts/login/"
Verdict = Literal["allowed", "refused", "neither"]


def is_api(key: str) -> bool:
    """API operations and the API's documentation: the token of store 1 asks for these too."""
    return key in API or key.startswith("api:")


@dataclass(frozen=True)
class Cell:
    """One request of the matrix: a role asking for one case of one entry with one method."""

    key: str
    entry: Entry
    case: Case
    method: str
    role: str

    @property
    def api(self) -> bool:
        return is_api(self.key)

    @property
    def expected(self) -> Verdict:
        return "allowed" if self.role in self.case.allowed else "refused"

    def url(self, world: World) -> str:
        kwargs = self.case.kwargs(world)
        if self.key in API:
            return self.key.split(" ", 1)[1].format(**kwargs)
        return reverse(self.key, kwargs=kwargs)

    def describe(self, url: str) -> str:
        what = self.key if self.key in API else f"{self.method} {self.key}"
        label = f" [{self.case.label}]" if self.case.label else ""
        return f"{self.role} × {what}{label} {url}"


def matrix_cells() -> Iterator[Cell]:
    for key, entry in (*PAGES.items(), *API.items()):
        roles = API_ROLES if is_api(key) else WEB_ROLES
        for case in entry.cases:
            for method in entry.methods:
                for role in roles:
                    yield Cell(key, entry, case, method, role)


def clients_for(world: World) -> dict[str, Client]:
    clients = {
        ANONYMOUS: Client(),
        TOKEN_1: Client(headers={"Authorization": f"Bearer {world.token}"}),
    }
    for role, user in world.users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def send(client: Client, cell: Cell, url: str, world: World) -> HttpResponseBase:
    extra = {"REMOTE_ADDR": next(_addresses)}
    body = cell.case.body(world) if cell.case.body is not None else None
    if cell.method == "GET":
        response = client.get(url, cell.case.query, **extra)
    elif cell.api:
        data = json.dumps(body) if body is not None else ""
        response = client.post(url, data, content_type="application/json", **extra)
    else:
        response = client.post(url, body or {}, **extra)
    if response.streaming:
        # Read to the end: the test client then closes the file, as a WSGI server would.
        b"".join(cast(StreamingHttpResponse, response).streaming_content)
    return response


def verdict(response: HttpResponseBase, role: str, entry: Entry) -> Verdict:
    status = response.status_code
    if status in (301, 302) and response["Location"].startswith(LOGIN_URL):
        return "refused" if role == ANONYMOUS else "neither"
    refusals = {403, 404} | entry.refused_with | ({401} if role == ANONYMOUS else set())
    if status in refusals:
        return "refused"
    if status in (401, 403, 404, 429) or status >= 500:
        return "neither"
    return "allowed"


def run(cell: Cell, clients: dict[str, Client], world: World) -> str | None:
    """The cell's problem, or None when it answered as the matrix expects."""
    url = cell.url(world)
    try:
        response = send(clients[cell.role], cell, url, world)
    except Exception as error:  # a crash is a wrong answer too, reported with the others
        return f"{cell.describe(url)}: raised {error!r}, expected {cell.expected}"
    if verdict(response, cell.role, cell.entry) == cell.expected:
        return None
    where = f" → {response['Location']}" if response.has_header("Location") else ""
    return f"{cell.describe(url)}: got {response.status_code}{where}, expected {cell.expected}"


# What a refused request must not change: row counts, and the states that actions move.
COUNTED: tuple[type[Model], ...] = (
    User,
    Customer,
    ContactPoint,
    Comment,
    Activity,
    MergeSuggestion,
    Order,
    Pickup,
    Return,
    Inquiry,
    Message,
    Attachment,
    CallbackRequest,
    RoutingRule,
    Article,
    ArticleDeflection,
    Touch,
    AuditEntry,
    OutboundEmail,
    IdempotencyKey,
)


def database_state() -> dict[str, Any]:
    state: dict[str, Any] = {model.__name__: model._default_manager.count() for model in COUNTED}
    # A token's use is audited whether or not the request is allowed: that is no change.
    state["AuditEntry"] = AuditEntry.objects.exclude(action="token.use").count()
    state["pickups"] = sorted(Pickup.objects.values_list("pk", "status", "wrong_code_attempts"))
    state["returns"] = sorted(Return.objects.values_list("pk", "status", "store_id"))
    state["orders"] = sorted(Order.objects.values_list("pk", "status"))
    state["inquiries"] = sorted(
        Inquiry.objects.values_list(
            "pk",
            "status",
            "priority",
            "queue_id",
            "assignee_id",
            "order_id",
            "merged_into_id",
            "tags",
            "rating",
        )
    )
    state["callbacks"] = sorted(CallbackRequest.objects.values_list("pk", "status", "attempts"))
    state["suggestions"] = sorted(MergeSuggestion.objects.values_list("pk", "status"))
    state["rules"] = sorted(RoutingRule.objects.values_list("pk", "enabled", "position"))
    state["articles"] = sorted(Article.objects.values_list("pk", "is_published", "updated_at"))
    return state


@pytest.mark.django_db
def test_access_matrix(world: World) -> None:
    clients = clients_for(world)
    cells = list(matrix_cells())
    problems: list[str] = []

    # given the database as built; when everyone asks for what they may not
    before = database_state()
    for cell in cells:
        if cell.expected == "refused" and (problem := run(cell, clients, world)):
            problems.append(problem)
    # then nothing changed
    after = database_state()
    if changed := sorted(name for name in before if before[name] != after[name]):
        problems.insert(0, f"the refused requests changed {', '.join(changed)}")
    # and everyone gets what they may
    for cell in cells:
        if cell.expected == "allowed" and (problem := run(cell, clients, world)):
            problems.append(problem)

    assert not problems, f"{len(problems)} wrong of {len(cells)} cells:\n" + "\n".join(problems)


# Every address has an entry ---------------------------------------------------------------------

# The Django admin (checked on its own below) and allauth's account pages.
EXCLUDED_PREFIXES = ("admin/", "accounts/")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str | None, URLPattern]]:
    """(route, namespaced name, pattern) of every URL pattern, includes recursed into."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from url_patterns(pattern, route, inner)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield route, name, pattern


def api_operations() -> dict[str, re.Pattern[str]]:
    """Every operation of the OpenAPI schema as "METHOD /api/v1/path/{param}/", with a pattern
    matching its addresses."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}": re.compile(re.sub(r"\{[^/}]+\}", "[^/]+", path) + "$")
        for path, operations in schema["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }


def test_every_url_and_api_operation_has_a_matrix_entry() -> None:
    operations = api_operations()
    missing: list[str] = []
    names: set[str] = set()
    for route, name, pattern in url_patterns():
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        if name is None:
            missing.append(f"the unnamed URL pattern {route!r}: name it and add it to PAGES")
            continue
        names.add(name)
        if name in PAGES:
            continue
        sample = reverse(name, kwargs=dict.fromkeys(pattern.pattern.regex.groupindex, "1"))
        if not any(address.match(sample) for address in operations.values()):
            missing.append(f"the URL {name!r} ({route}): add it to PAGES")
    missing += [
        f"the API operation {operation!r}: add it to API"
        for operation in operations
        if operation not in API
    ]
    stale = [f"PAGES[{name!r}]" for name in PAGES if name not in names]
    stale += [f"API[{operation!r}]" for operation in API if operation not in operations]

    assert not (missing or stale), (
        "Who may use these is not decided:\n"
        + "\n".join(missing)
        + "\nThese entries name no URL, operation or matrix cell:\n"
        + "\n".join(stale)
    )


# Lists hold no foreign rows ---------------------------------------------------------------------

Texts = Callable[[World], list[str]]


@dataclass(frozen=True)
class Listing:
    """A list as one role sees it: what must be on it (so that the check can see anything at
    all) and what must not (others' rows)."""

    role: str
    label: str
    url: Callable[[World], str]
    shows: Texts
    hides: Texts
    status: int = 200


def _number(pickup: Pickup) -> str:
    return pickup.order.number


LISTINGS = (
    # A customer's own pages: her orders and inquiries, nobody else's.
    Listing(
        CUSTOMER_A,
        "her account page",
        lambda w: reverse("account_home"),
        lambda w: [w.sale_1.number, w.inquiry_a.reference],
        lambda w: [B_EMAIL, "Bea", w.sale_2.number, w.inquiry_b.reference, w.inquiry_2.reference],
    ),
    Listing(
        CUSTOMER_B,
        "her account page",
        lambda w: reverse("account_home"),
        lambda w: [w.sale_2.number, w.inquiry_b.reference],
        lambda w: [A_EMAIL, "Ann", w.sale_1.number, w.inquiry_a.reference, w.inquiry_1.reference],
    ),
    Listing(
        CUSTOMER_A,
        "her data download",
        lambda w: reverse("account_data"),
        lambda w: [A_EMAIL, w.sale_1.number, w.inquiry_a.reference],
        lambda w: [B_EMAIL, w.sale_2.number, w.inquiry_b.reference, w.inquiry_2.reference],
    ),
    Listing(
        CUSTOMER_A,
        "her portal",
        lambda w: reverse("support:portal"),
        lambda w: [w.inquiry_a.reference, w.inquiry_1.reference],
        lambda w: [w.inquiry_b.reference, w.inquiry_2.reference, w.inquiry_b.subject],
    ),
    Listing(
        CUSTOMER_B,
        "her portal",
        lambda w: reverse("support:portal"),
        lambda w: [w.inquiry_b.reference, w.inquiry_2.reference],
        lambda w: [w.inquiry_a.reference, w.inquiry_1.reference, w.inquiry_a.subject],
    ),
    # Internal notes never reach the customer's side, nor a token.
    Listing(
        CUSTOMER_A,
        "her inquiry in the portal",
        lambda w: reverse("support:portal_inquiry", args=[w.inquiry_a.reference]),
        lambda w: ["Ann writes about the zip"],
        lambda w: [NOTE, w.note_file_a.filename],
    ),
    Listing(
        ANONYMOUS,
        "A's tracking page",
        lambda w: reverse("support:track", args=[w.inquiry_a.tracking_token]),
        lambda w: ["Ann writes about the zip"],
        lambda w: [NOTE, w.note_file_a.filename],
    ),
    Listing(
        TOKEN_1,
        "A's inquiry in the API",
        lambda w: f"/api/v1/inquiries/{w.inquiry_a.reference}/",
        lambda w: ["Ann writes about the zip"],
        lambda w: [NOTE],
    ),
    # A store's counter and desk: that store's pickups and returns, for supervisors too.
    Listing(
        ASSOCIATE_1,
        "store 1's pickup counter",
        lambda w: reverse("stores:pickups", args=["union"]),
        lambda w: [_number(w.pickup_1)],
        lambda w: [_number(w.pickup_2)],
    ),
    Listing(
        SUPERVISOR,
        "store 1's pickup counter",
        lambda w: reverse("stores:pickups", args=["union"]),
        lambda w: [_number(w.pickup_1)],
        lambda w: [_number(w.pickup_2)],
    ),
    Listing(
        MANAGER_2,
        "store 2's pickup counter",
        lambda w: reverse("stores:pickups", args=["mission"]),
        lambda w: [_number(w.pickup_2)],
        lambda w: [_number(w.pickup_1)],
    ),
    Listing(
        ASSOCIATE_1,
        "store 1's returns today",
        lambda w: reverse("stores:returns_today", args=["union"]),
        lambda w: [w.return_1.number],
        lambda w: [w.return_2.number],
    ),
    Listing(
        MANAGER_2,
        "store 2's returns today",
        lambda w: reverse("stores:returns_today", args=["mission"]),
        lambda w: [w.return_2.number],
        lambda w: [w.return_1.number],
    ),
    # Store staff's inquiries: those reported at their stores, and their call-backs.
    Listing(
        ASSOCIATE_1,
        "the inquiry list",
        lambda w: reverse("tickets:queue"),
        lambda w: [w.inquiry_1.reference],
        lambda w: [w.inquiry_2.reference, w.inquiry_a.reference, w.inquiry_b.reference],
    ),
    Listing(
        MANAGER_2,
        "the inquiry list",
        lambda w: reverse("tickets:queue"),
        lambda w: [w.inquiry_2.reference],
        lambda w: [w.inquiry_1.reference, w.inquiry_a.reference, w.inquiry_b.reference],
    ),
    Listing(
        REP,
        "the inquiry list",
        lambda w: reverse("tickets:queue"),
        lambda w: [i.reference for i in (w.inquiry_1, w.inquiry_2, w.inquiry_a, w.inquiry_b)],
        lambda w: [],
    ),
    Listing(
        ASSOCIATE_1,
        "the call-back list",
        lambda w: reverse("tickets:callbacks"),
        lambda w: [w.inquiry_1.reference],
        lambda w: [w.inquiry_2.reference, w.inquiry_a.reference],
    ),
    Listing(
        MANAGER_2,
        "the call-back list",
        lambda w: reverse("tickets:callbacks"),
        lambda w: [w.inquiry_2.reference],
        lambda w: [w.inquiry_1.reference, w.inquiry_a.reference],
    ),
    # The knowledge base: drafts are the call center's.
    Listing(
        ASSOCIATE_1,
        "the knowledge base",
        lambda w: reverse("tickets:knowledge:list"),
        lambda w: [w.article.title],
        lambda w: [w.draft.title],
    ),
    Listing(
        REP,
        "the knowledge base",
        lambda w: reverse("tickets:knowledge:list"),
        lambda w: [w.article.title, w.draft.title],
        lambda w: [],
    ),
    Listing(
        ANONYMOUS,
        "the help pages",
        lambda w: reverse("support:help"),
        lambda w: [w.article.title],
        lambda w: [w.draft.title],
    ),
    Listing(
        CUSTOMER_A,
        "the help search",
        lambda w: reverse("support:help") + "?q=returns+pickup",
        lambda w: [],
        lambda w: [w.draft.title],
    ),
    # Reports: a store manager's figures are her stores'.
    Listing(
        MANAGER_2,
        "the stores dashboard",
        lambda w: reverse("reports:dashboard", args=["stores"]),
        lambda w: ["Mission Street"],
        lambda w: ["Union Square"],
    ),
    Listing(
        MANAGER_2,
        "returns by store, as CSV",
        lambda w: reverse("reports:download", args=["stores", "returns-by-store"]),
        lambda w: ["Mission Street"],
        lambda w: ["Union Square"],
    ),
    # Another store in the filter is refused as input, not answered with its figures.
    Listing(
        MANAGER_2,
        "the stores dashboard for store 1",
        lambda w: reverse("reports:dashboard", args=["stores"]) + f"?store={w.store_1.pk}",
        lambda w: ["Choose one of the stores in the list."],
        lambda w: ["Union Square"],
    ),
    Listing(
        MANAGER_2,
        "returns by store, as CSV, for store 1",
        lambda w: (
            reverse("reports:download", args=["stores", "returns-by-store"])
            + f"?store={w.store_1.pk}"
        ),
        lambda w: [],
        lambda w: ["Union Square"],
        status=400,
    ),
    # The API: a token of store 1, and store staff, see their stores' pickups and returns.
    Listing(
        TOKEN_1,
        "the pickups",
        lambda w: "/api/v1/pickups/",
        lambda w: [_number(w.pickup_1)],
        lambda w: [_number(w.pickup_2)],
    ),
    Listing(
        TOKEN_1,
        "store 2's pickups by filter",
        lambda w: "/api/v1/pickups/?store=mission",
        lambda w: [],
        lambda w: [_number(w.pickup_2)],
    ),
    Listing(
        TOKEN_1,
        "the returns",
        lambda w: "/api/v1/returns/",
        lambda w: [w.return_1.number],
        lambda w: [w.return_2.number],
    ),
    Listing(
        TOKEN_1,
        "store 2's returns by filter",
        lambda w: "/api/v1/returns/?store=mission",
        lambda w: [],
        lambda w: [w.return_2.number],
    ),
    Listing(
        ASSOCIATE_1,
        "the pickups",
        lambda w: "/api/v1/pickups/",
        lambda w: [_number(w.pickup_1)],
        lambda w: [_number(w.pickup_2)],
    ),
    Listing(
        MANAGER_2,
        "the returns",
        lambda w: "/api/v1/returns/",
        lambda w: [w.return_2.number],
        lambda w: [w.return_1.number],
    ),
    Listing(
        ASSOCIATE_1,
        "A's inquiries",
        lambda w: f"/api/v1/customers/{w.customer_a.pk}/inquiries/",
        lambda w: [w.inquiry_1.reference],
        lambda w: [w.inquiry_a.reference],
    ),
    Listing(
        MANAGER_2,
        "B's inquiries",
        lambda w: f"/api/v1/customers/{w.customer_b.pk}/inquiries/",
        lambda w: [w.inquiry_2.reference],
        lambda w: [w.inquiry_b.reference],
    ),
    # The timeline beside the inquiries: store staff read only their stores' inquiries there too.
    Listing(
        ASSOCIATE_1,
        "A's 360 page",
        lambda w: reverse("customers:detail", args=[w.customer_a.pk]),
        lambda w: [w.inquiry_1.reference],
        lambda w: [w.inquiry_a.reference, w.inquiry_a.subject, "Ann writes about the zip"],
    ),
    Listing(
        MANAGER_2,
        "B's 360 page",
        lambda w: reverse("customers:detail", args=[w.customer_b.pk]),
        lambda w: [w.inquiry_2.reference],
        lambda w: [
            w.inquiry_b.reference,
            w.inquiry_b.subject,
            "Bea writes about the parcel",
        ],
    ),
    Listing(
        ASSOCIATE_1,
        "A's timeline in the API",
        lambda w: f"/api/v1/customers/{w.customer_a.pk}/timeline/",
        lambda w: [w.inquiry_1.reference],
        lambda w: [w.inquiry_a.reference, w.inquiry_a.subject, "Ann writes about the zip"],
    ),
)


def listing_problems(listings: tuple[Listing, ...], world: World) -> list[str]:
    clients = clients_for(world)
    problems: list[str] = []
    for listing in listings:
        url = listing.url(world)
        response = clients[listing.role].get(url, REMOTE_ADDR=next(_addresses))
        where = f"{listing.role} × {listing.label} {url}"
        if response.status_code != listing.status:
            problems.append(f"{where}: got {response.status_code}, expected {listing.status}")
            continue
        text = response.content.decode()
        problems += [
            f"{where}: {shown!r} is missing" for shown in listing.shows(world) if shown not in text
        ]
        problems += [
            f"{where}: shows {hidden!r}" for hidden in listing.hides(world) if hidden in text
        ]
    return problems


@pytest.mark.django_db
def test_lists_hold_no_foreign_rows(world: World) -> None:
    problems = listing_problems(LISTINGS, world)

    assert not problems, "\n".join(problems)


# The admin --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_admins_reach_the_admin(world: World) -> None:
    clients = clients_for(world)
    admin = Client()
    admin.force_login(world.admin)
    addresses = [reverse("admin:index"), reverse("admin:customers_customer_changelist")]
    problems: list[str] = []
    for url in addresses:
        for role in WEB_ROLES:
            response = clients[role].get(url)
            location = response.get("Location", "")
            refused = response.status_code in (403, 404) or (
                response.status_code == 302
                and location.startswith((reverse("admin:login"), LOGIN_URL))
            )
            if not refused:
                problems.append(f"{role} × {url}: got {response.status_code} {location}")
        if (status := admin.get(url).status_code) != 200:
            problems.append(f"admin × {url}: got {status}, expected 200")
    # The CSV imports are the admin's too (the matrix shows everyone else refused).
    if (status := admin.get(reverse("imports:upload")).status_code) != 200:
        problems.append(f"admin × imports:upload: got {status}, expected 200")

    assert not problems, "\n".join(problems)
