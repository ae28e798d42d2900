"""`manage.py seed_demo [--customers N] [--seed S]`: load the demo data once, print the logins.

The named story customers go through the real services (order_record, comment_add), so identity
resolution joins their channels and keeps the deliberate duplicates apart as merge suggestions; so
do the stores' pickups and returns (pickup_set_status, pickup_collect, return_create). The generated
crowd is written with bulk INSERTs, row for row as those services would have written it:
tests/crm/test_seed_demo.py replays the same plans both ways and compares the rows.
"""

import io
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import batched
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from crm import demo
from crm.demo import CommentPlan, OrderPlan, PersonPlan, PickupPlan, ReturnPlan
from crm.demo.engagement import engagement_write
from crm.demo.reports import backlog_history_write
from crm.demo.service_desk import desk_write
from crm.models import AuditEntry, Channel, OutboundEmail, Role, User
from crm.services import audit_backdating, audit_record
from customers.insights.services import insights_rebuild
from customers.models import (
    Activity,
    ActivityKind,
    Comment,
    ContactKind,
    ContactPoint,
    Customer,
    MergeSuggestion,
    MergeSuggestionStatus,
)
from customers.services import comment_add, merge_suggestions_find
from orders.models import (
    Category,
    Fulfilment,
    Order,
    OrderLine,
    Pickup,
    PickupEvent,
    PickupStatus,
    Product,
    Refund,
    Return,
)
from orders.services import (
    order_default_fulfilment,
    order_default_status,
    order_lines_priced,
    order_number,
    order_placed_summary,
    order_record,
    pickup_collect,
    pickup_set_status,
)
from orders.services.returns import return_create, return_request_online
from stores.models import (
    StaffMembership,
    StockAction,
    StockLevel,
    StockMovement,
    Store,
    StoreRole,
)
from stores.services import stock_adjust
from tickets.models import Inquiry

# The audit entry that marks a finished seed: with it, seed_demo only prints the logins.
SEED_ACTION = "demo.seed"
# Crowd customers written per transaction.
BATCH = 1000
# What customer_resolve copies from an intake onto the record when the record has it blank.
_NAME_AND_ADDRESS = ("first_name", "last_name", "address_line1", "city", "postcode", "country")
# The channel comment_add files a comment under, by its author's role.
_COMMENT_CHANNEL = {
    Role.ASSOCIATE: Channel.STORE,
    Role.MANAGER: Channel.STORE,
    Role.REP: Channel.PHONE,
}


class Command(BaseCommand):
    help = (
        "Load demo data (6 stores and a warehouse, 300 products with their stock, staff logins, "
        "story customers, a generated crowd, pickups and returns at the first stores, and a "
        "service desk with inquiries from every channel) into an "
        "empty database and print the logins. "
        "Does nothing but print the logins when the demo data is already there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=2000,
            help="How many customer records in all, story customers included (default 2000).",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="The crowd's random seed (default 1)."
        )

    def handle(self, *args: Any, customers: int, seed: int, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo makes logins with a published password, so it runs only in "
                "development: with the embedded defaults or DJANGO_DEBUG=true."
            )
        marker = AuditEntry.objects.filter(action=SEED_ACTION).first()
        if marker is not None:
            self.stdout.write(
                f"Demo data is already loaded ({marker.data.get('customers', 0):,} customers, "
                f"seed {marker.data.get('seed')}); not seeding again."
            )
            self._print_logins()
            return
        _check_empty()

        started = time.perf_counter()
        with _quiet("celery.app.trace"), _quiet("tickets.services.email_intake"):
            made = demo_load(
                customers=customers,
                seed=seed,
                progress=self._progress if options["verbosity"] > 0 else None,
            )
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {seconds:.1f} s (seed {seed}):")
            + "\n  "
            + ", ".join(f"{count:,} {name}" for name, count in made.items())
        )
        self._print_logins()

    def _progress(self, done: int, total: int, started: float) -> None:
        if done % (10 * BATCH) == 0 or done == total:
            elapsed = time.perf_counter() - started
            self.stdout.write(f"  {done:,} of {total:,} generated customers ({elapsed:.0f} s)")

    def _print_logins(self) -> None:
        logins = [user for user in demo.USERS if user.login]
        existing = set(
            User.objects.filter(email__in=[user.email for user in logins]).values_list(
                "email", flat=True
            )
        )
        stores = {store.code: store.name for store in demo.STORES}
        rows = [
            (
                Role(user.role).label + (f", {stores[user.store_code]}" if user.store_code else ""),
                user.email,
                user.try_this,
            )
            for user in logins
            if user.email in existing
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        self.stdout.write(
            f"\nDemo logins at {demo.DEMO_URL} (password for every login: {demo.DEMO_PASSWORD})"
        )
        for role, email, try_this in rows:
            self.stdout.write(f"  {role:<{widths[0]}}  {email:<{widths[1]}}  {try_this}")


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """In development the story customers' merge-suggestion tasks run in-process, and each would
    log a line between the progress and the logins."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_empty() -> None:
    """Demo data goes into an empty database only: never mixed with real or half-seeded data."""
    found = [
        str(model._meta.verbose_name_plural)
        for model in (Store, Product, Customer, Order)
        if model.objects.exists()
    ]
    taken = list(
        User.objects.filter(email__in=[user.email for user in demo.USERS]).values_list(
            "email", flat=True
        )
    )
    if found or taken:
        held = ", ".join(found + [f"the user {email}" for email in taken])
        raise CommandError(
            f"The database already holds {held}, but no finished demo seed. seed_demo only "
            "fills an empty database: start from a new one (for the embedded default, delete "
            "var/crm.sqlite3; or run `manage.py flush`)."
        )


def demo_load(
    *, customers: int, seed: int, progress: Callable[[int, int, float], None] | None = None
) -> dict[str, int]:
    """Write the demo data and return how many rows of each kind there are. `customers` counts
    the story customers too; the generated crowd makes up the rest."""
    today = timezone.now().date()
    with transaction.atomic():
        world = world_write()
        stories = {
            plan.label: person_write_through_services(plan, world) for plan in demo.stories(today)
        }
        # The merge-suggestion task runs after commit, or on a worker: ask now, so that the
        # duplicates are suggested whichever way tasks run.
        for customer_id in sorted({customer.pk for customer in stories.values()}):
            merge_suggestions_find(customer_id=customer_id)
        portal = stories[demo.PORTAL_STORY]
        Customer.objects.filter(pk=portal.pk).update(user=world.users["customer"])
    # The counter's customers are e-mailed (pickup ready, return receipts). The outbox keeps
    # every e-mail; in development each is also printed as it is sent, dozens of lines between
    # the progress and the logins.
    with redirect_stdout(io.StringIO()), transaction.atomic():
        counter_write(world, today=today, now=timezone.now().replace(second=0, microsecond=0))

    crowd = max(customers - Customer.objects.count(), 0)
    started, done = time.perf_counter(), 0
    for plans in batched(demo.crowd(seed=seed, count=crowd, today=today), BATCH):
        with transaction.atomic():
            people_write_in_bulk(plans, world)
        done += len(plans)
        if progress is not None:
            progress(done, crowd, started)
    engagement_write(stories=stories, seed=seed, today=today)
    # Each inquiry commits on its own, so that it is routed and acknowledged (in-process) before
    # the demo replies to it or moves it back in time.
    with redirect_stdout(io.StringIO()):
        desk_write(
            users=world.users, workplaces=world.workplaces, stories=stories, now=timezone.now()
        )
    backlog_history_write(now=timezone.now())
    # Last: the bulk INSERTs and back-dating above bypass the services that keep insights current.
    insights_rebuild()

    made = {
        "stores": Store.objects.count(),
        "products": Product.objects.count(),
        "stock levels": StockLevel.objects.count(),
        "customers": Customer.objects.count(),
        "contact points": ContactPoint.objects.count(),
        "orders": Order.objects.count(),
        "order lines": OrderLine.objects.count(),
        "timeline entries": Activity.objects.count(),
        "comments": Comment.objects.count(),
        "pickups": Pickup.objects.count(),
        "returns": Return.objects.count(),
        "inquiries": Inquiry.objects.count(),
        "e-mails in the outbox": OutboundEmail.objects.count(),
        "open merge suggestions": MergeSuggestion.objects.filter(
            status=MergeSuggestionStatus.OPEN
        ).count(),
        "logins": sum(user.login for user in demo.USERS),
    }
    with transaction.atomic():
        audit_record(
            actor=None,
            action=SEED_ACTION,
            obj=world.users["admin"],
            data={"seed": seed, "customers": made["customers"]},
        )
    return made


# ---------------------------------------------------------------------------------------------
# The world the plans refer to: stores by code, products by SKU, staff by key.


@dataclass
class DemoWorld:
    stores: dict[str, Store]
    products: dict[str, Product]
    users: dict[str, User]
    # The store each store employee works at: comment_add signs their comments with it.
    workplaces: dict[int, Store] = field(default_factory=dict)

    def store(self, code: str) -> Store | None:
        return self.stores[code] if code else None


def world_write() -> DemoWorld:
    """Stores, the warehouse, catalogue with its opening stock, and demo users (one password hash
    for all logins: hashing is slow). The warehouse comes after the stores: the demo's "store 1"
    and "store 2" are the first two stores made."""
    stores = {
        plan.code: Store.objects.create(
            code=plan.code,
            name=plan.name,
            address_line1=plan.address_line1,
            city=plan.city,
            postcode=plan.postcode,
            country="US",
            phone=plan.phone,
            hours=plan.hours,
            time_zone=plan.time_zone,
            kind=plan.kind,
        )
        for plan in (*demo.STORES, demo.WAREHOUSE)
    }
    catalogue = demo.catalogue()
    categories = {
        name: Category(name=name, slug=slugify(name))
        for name in dict.fromkeys(product.category for product in catalogue)
    }
    Category.objects.bulk_create(categories.values())
    products = Product.objects.bulk_create(
        Product(sku=p.sku, name=p.name, category=categories[p.category], price=p.price)
        for p in catalogue
    )
    _stock_write(stores, {p.sku: p for p in products})

    password = make_password(demo.DEMO_PASSWORD)
    users, workplaces = {}, {}
    for plan in demo.USERS:
        user = User.objects.create(
            email=plan.email,
            first_name=plan.first_name,
            last_name=plan.last_name,
            role=plan.role,
            time_zone=plan.time_zone,
            is_staff=plan.role == Role.ADMIN,
            is_superuser=plan.role == Role.ADMIN,
            password=password if plan.login else make_password(None),
        )
        if plan.store_code:
            workplaces[user.pk] = stores[plan.store_code]
            StaffMembership.objects.create(
                user=user, store=stores[plan.store_code], role=StoreRole(plan.role)
            )
        if plan.login:
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        users[plan.key] = user
    return DemoWorld(stores, {p.sku: p for p in products}, users, workplaces)


def _stock_write(stores: dict[str, Store], products: dict[str, Product]) -> None:
    """The opening stock, with the "receive" movement stock_adjust would have written for it, so
    that the stock's audit trail explains every level."""
    plans = [plan for plan in demo.stock() if plan.on_hand]
    StockLevel.objects.bulk_create(
        (
            StockLevel(store=stores[p.store_code], product=products[p.sku], on_hand=p.on_hand)
            for p in plans
        ),
        batch_size=BATCH,
    )
    StockMovement.objects.bulk_create(
        (
            StockMovement(
                store=stores[p.store_code],
                product=products[p.sku],
                kind=StockAction.RECEIVE,
                on_hand_change=p.on_hand,
                reserved_change=0,
                on_hand_after=p.on_hand,
                reserved_after=0,
                reason="Opening stock",
            )
            for p in plans
        ),
        batch_size=BATCH,
    )


# ---------------------------------------------------------------------------------------------
# Two ways to write a history: through the services, one event at a time, or in bulk.


def person_write_through_services(plan: PersonPlan, world: DemoWorld) -> Customer:
    """Replay a history through order_record and comment_add, as the tills, the web shop and the
    staff would have sent it. Returns the customer of the last order."""
    customer: Customer | None = None
    for event in plan.events:
        if isinstance(event, OrderPlan):
            order = order_record(
                # Two years of history: the opening stock is counted after it.
                take_stock=False,
                identity=event.identity,
                channel=event.channel,
                lines=event.lines,
                store=world.store(event.store_code),
                placed_at=event.placed_at,
                shipping=event.shipping,
                status=event.status,
                actor=world.users.get(event.actor_key),
            )
            customer = order.customer
        elif customer is not None:
            comment = comment_add(
                customer=customer, author=world.users[event.author_key], body=event.body
            )
            _comment_backdate(comment, event.created_at)
    if customer is None:
        raise ValueError(f"{plan.label or 'A history'} has no order.")
    return customer


@audit_backdating()
def _comment_backdate(comment: Comment, at: datetime) -> None:
    """comment_add stamps the present; a replayed history puts the note back where it happened."""
    Comment.objects.filter(pk=comment.pk).update(created_at=at)
    Activity.objects.filter(
        customer_id=comment.customer_id, subject_type="comment", subject_id=str(comment.pk)
    ).update(occurred_at=at)
    AuditEntry.objects.filter(
        action="comment.add", object_type=Comment._meta.label_lower, object_id=str(comment.pk)
    ).update(occurred_at=at)


# ---------------------------------------------------------------------------------------------
# The stores' counter: pickups in every state and returns, through the services one at a time.

_PICKUP_ACTIVITY: dict[str, str] = {
    PickupStatus.READY: ActivityKind.PICKUP_READY,
    PickupStatus.COLLECTED: ActivityKind.PICKUP_COLLECTED,
    PickupStatus.EXPIRED: ActivityKind.PICKUP_EXPIRED,
    PickupStatus.CANCELLED: ActivityKind.PICKUP_CANCELLED,
}


def counter_write(world: DemoWorld, *, today: date, now: datetime) -> None:
    """Pickups waiting, ready, collected and expired at stores 1 and 2, and returns at store 1."""
    for pickup_plan in demo.pickups():
        pickup_write(pickup_plan, world, now)
    for return_plan in demo.returns(today):
        return_write(return_plan, world, now)


def pickup_write(plan: PickupPlan, world: DemoWorld, now: datetime) -> Pickup:
    """Place a pick-up order as the web shop would, then move it along as the store did."""
    store = world.stores[plan.store_code]
    actor = world.users.get(plan.actor_key)
    for line in plan.lines:
        # The order reserves its lines: make sure the store has them, and one more, so that a
        # collection never empties a shelf.
        _stock_ensure(store, world.products[line.sku], line.quantity + 1)
    placed_at = now - timedelta(hours=plan.placed)
    order = order_record(
        identity=plan.identity,
        channel=Channel.WEB,
        lines=plan.lines,
        placed_at=placed_at,
        fulfilment=Fulfilment.PICKUP,
        pickup_store=store,
    )
    pickup = order.pickup
    moments: dict[str, datetime] = {PickupStatus.PLACED: placed_at}
    for status, hours_ago in plan.steps:
        if status == PickupStatus.COLLECTED and actor is not None:
            pickup = pickup_collect(
                pickup=pickup,
                actor=actor,
                code="" if plan.id_check_reason else pickup.code,
                id_check_reason=plan.id_check_reason,
            )
        else:
            note = plan.note or (
                "Not collected within the hold period" if status == PickupStatus.EXPIRED else ""
            )
            pickup = pickup_set_status(pickup=pickup, to=status, actor=actor, note=note)
        moments[status] = now - timedelta(hours=hours_ago)
    _pickup_backdate(pickup, moments)
    return pickup


@audit_backdating()
def _pickup_backdate(pickup: Pickup, moments: dict[str, datetime]) -> None:
    """The services stamp every step with the present; the demo's counter has pickups placed,
    made ready and collected over the last days (the dashboard sorts waiting pickups by age, and
    a hold counts from the moment the order was ready), so each step goes back to its time."""
    ready_at = moments.get(PickupStatus.READY)
    Pickup.objects.filter(pk=pickup.pk).update(
        created_at=moments[PickupStatus.PLACED],
        ready_at=ready_at,
        hold_until=ready_at + timedelta(days=pickup.store.pickup_hold_days) if ready_at else None,
        collected_at=moments.get(PickupStatus.COLLECTED),
    )
    order = pickup.order
    for status, at in moments.items():
        PickupEvent.objects.filter(pickup=pickup, to_status=status).update(occurred_at=at)
        AuditEntry.objects.filter(
            action=f"pickup.{status}",
            object_type=Pickup._meta.label_lower,
            object_id=str(pickup.pk),
        ).update(occurred_at=at)
        if status in _PICKUP_ACTIVITY:
            Activity.objects.filter(
                customer_id=order.customer_id,
                kind=_PICKUP_ACTIVITY[status],
                subject_type="order",
                subject_id=order.number,
            ).update(occurred_at=at)
        if status in {PickupStatus.EXPIRED, PickupStatus.CANCELLED}:
            Refund.objects.filter(order=order, return_request=None).update(created_at=at)


def _stock_ensure(store: Store, product: Product, quantity: int) -> None:
    """Receive a delivery when fewer than `quantity` are available at the store."""
    level = StockLevel.objects.filter(store=store, product=product).first()
    available = level.available if level is not None else 0
    if available < quantity:
        stock_adjust(
            store=store,
            product=product,
            action=StockAction.RECEIVE,
            quantity=quantity - available,
            reason="Delivery for web pickups",
        )


@audit_backdating()
def return_write(plan: ReturnPlan, world: DemoWorld, now: datetime) -> Return:
    """Record the purchase, then take its first line back at store 1 (or start it online)."""
    purchase = plan.purchase
    order = order_record(
        take_stock=False,
        identity=purchase.identity,
        channel=purchase.channel,
        lines=purchase.lines,
        store=world.store(purchase.store_code),
        placed_at=purchase.placed_at,
        shipping=purchase.shipping,
        status=purchase.status,
    )
    line = order.lines.order_by("id").first()
    if line is None:
        raise ValueError(f"Order {order.number} has no line to return.")
    item = (line, plan.quantity, plan.reason, plan.condition)
    if plan.online:
        return return_request_online(order=order, lines=[item])
    store = world.stores[demo.STORES[0].code]
    return_request = return_create(
        order=order,
        lines=[item],
        store=store,
        actor=world.users[plan.actor_key],
        refund_method=plan.refund_method,
    )
    if plan.days_ago:
        # return_create stamps the present; these came back over the last few days.
        at = now - timedelta(days=plan.days_ago)
        Return.objects.filter(pk=return_request.pk).update(created_at=at, completed_at=at)
        Refund.objects.filter(return_request=return_request).update(created_at=at)
        Activity.objects.filter(
            customer_id=order.customer_id,
            kind=ActivityKind.RETURN_RECEIVED,
            subject_type="order",
            subject_id=order.number,
        ).update(occurred_at=at)
        AuditEntry.objects.filter(
            action="return.create",
            object_type=Return._meta.label_lower,
            object_id=str(return_request.pk),
        ).update(occurred_at=at)
    return return_request


@dataclass
class _Rows:
    customers: list[Customer] = field(default_factory=list)
    contact_points: list[ContactPoint] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


@audit_backdating()
def people_write_in_bulk(plans: Sequence[PersonPlan], world: DemoWorld) -> None:
    """Write histories with a few multi-row INSERTs, row for row as order_record and comment_add
    would have written them one event at a time. Each history must stay one customer: every order
    after the first shares an identifier with the record."""
    events = [event for plan in plans for event in plan.events]
    order_ids = iter(_reserve_ids(Order, sum(isinstance(e, OrderPlan) for e in events)))
    comment_ids = iter(_reserve_ids(Comment, sum(isinstance(e, CommentPlan) for e in events)))
    rows = _Rows()
    for plan in plans:
        _replay(plan, world, rows, order_ids, comment_ids)

    Customer.objects.bulk_create(rows.customers, batch_size=BATCH)
    ContactPoint.objects.bulk_create(rows.contact_points, batch_size=BATCH)
    Order.objects.bulk_create(rows.orders, batch_size=BATCH)
    OrderLine.objects.bulk_create(rows.lines, batch_size=BATCH)
    Comment.objects.bulk_create(rows.comments, batch_size=BATCH)
    Activity.objects.bulk_create(rows.activities, batch_size=BATCH)
    audit = AuditEntry.objects.bulk_create(
        (
            AuditEntry(
                actor=comment.author,
                action="comment.add",
                object_type=Comment._meta.label_lower,
                object_id=str(comment.pk),
                data={"customer": comment.customer.pk},
            )
            for comment in rows.comments
        ),
        batch_size=BATCH,
    )
    # auto_now_add stamped the present on the audit entries: put them back at their comments.
    for entry, comment in zip(audit, rows.comments, strict=True):
        entry.occurred_at = comment.created_at
    AuditEntry.objects.bulk_update(audit, ["occurred_at"], batch_size=BATCH)


def _replay(
    plan: PersonPlan,
    world: DemoWorld,
    rows: _Rows,
    order_ids: Iterator[int],
    comment_ids: Iterator[int],
) -> None:
    """What customer_resolve, order_record and comment_add would write for this history."""
    customer: Customer | None = None
    known: set[tuple[str, str]] = set()
    for event in plan.events:
        if isinstance(event, CommentPlan):
            if customer is not None:
                _replay_comment(event, customer, world, rows, next(comment_ids))
            continue
        store = world.store(event.store_code)
        actor = world.users.get(event.actor_key)
        identity = event.identity
        points = identity.contact_points()
        if customer is None:
            customer = Customer(
                **{name: getattr(identity, name).strip() for name in _NAME_AND_ADDRESS},
                home_store=store,
                customer_since=event.placed_at,
            )
            rows.customers.append(customer)
            new = points
        else:
            if known.isdisjoint(points):
                raise ValueError(
                    f"{plan.label or 'A generated history'}: an order on "
                    f"{event.placed_at:%Y-%m-%d} shares no identifier with the record; the "
                    "services would open a second customer for it."
                )
            for name in _NAME_AND_ADDRESS:
                if not getattr(customer, name) and getattr(identity, name).strip():
                    setattr(customer, name, getattr(identity, name).strip())
            if customer.home_store_id is None and store is not None:
                customer.home_store = store
            new = [point for point in points if point not in known]
            if new:
                rows.activities.append(
                    _activity(
                        customer,
                        ActivityKind.CONTACT_ADDED,
                        event.channel,
                        event.placed_at,
                        "Added " + ", ".join(f"{ContactKind(k).label.lower()} {v}" for k, v in new),
                        store=store,
                        actor=actor,
                    )
                )
        known.update(new)
        rows.contact_points.extend(
            ContactPoint(customer=customer, kind=kind, value=value, source=event.channel)
            for kind, value in new
        )
        order = _replay_order(event, customer, store, world, rows, next(order_ids))
        rows.activities.append(
            _activity(
                customer,
                ActivityKind.ORDER_PLACED,
                event.channel,
                order.placed_at,
                order_placed_summary(order, item_count=sum(line.quantity for line in event.lines)),
                store=store,
                actor=actor,
                subject=("order", order.number),
            )
        )
    if customer is None:
        raise ValueError(f"{plan.label or 'A generated history'} has no order.")
    customer.set_search_names()


def _replay_order(
    event: OrderPlan,
    customer: Customer,
    store: Store | None,
    world: DemoWorld,
    rows: _Rows,
    pk: int,
) -> Order:
    lines = order_lines_priced(event.lines, world.products)
    subtotal = sum((line.line_total for line in lines), Decimal("0"))
    status = event.status or order_default_status(event.channel)
    fulfilment = order_default_fulfilment(event.channel)
    order = Order(
        pk=pk,
        number=order_number(event.channel, pk),
        customer=customer,
        channel=event.channel,
        store=store,
        status=status,
        fulfilment=fulfilment,
        placed_at=event.placed_at,
        subtotal=subtotal,
        shipping=event.shipping,
        total=subtotal + event.shipping,
    )
    for order_line in lines:
        order_line.order = order
    rows.orders.append(order)
    rows.lines.extend(lines)
    return order


def _replay_comment(
    event: CommentPlan, customer: Customer, world: DemoWorld, rows: _Rows, pk: int
) -> None:
    author = world.users[event.author_key]
    store = world.workplaces.get(author.pk)
    body = event.body.strip()
    comment = Comment(
        pk=pk,
        customer=customer,
        author=author,
        author_role=author.role,
        store=store,
        body=body,
        created_at=event.created_at,
    )
    rows.comments.append(comment)
    rows.activities.append(
        _activity(
            customer,
            ActivityKind.COMMENT_ADDED,
            _COMMENT_CHANNEL.get(Role(author.role), Channel.SYSTEM),
            event.created_at,
            f"Comment by {author}",
            detail=body,
            store=store,
            actor=author,
            subject=("comment", str(pk)),
        )
    )


def _activity(
    customer: Customer,
    kind: str,
    channel: str,
    occurred_at: datetime,
    summary: str,
    *,
    detail: str = "",
    store: Store | None = None,
    actor: User | None = None,
    subject: tuple[str, str] = ("", ""),
) -> Activity:
    """The row activity_record would append."""
    return Activity(
        customer=customer,
        kind=kind,
        channel=channel,
        summary=summary[:255],
        detail=detail,
        store=store,
        actor=actor,
        actor_role=actor.role if actor else "",
        occurred_at=occurred_at,
        subject_type=subject[0],
        subject_id=subject[1],
    )


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Take `count` ids from the table's own id sequence, as `count` single INSERTs would have:
    order numbers are made from ids (W100123), so these can never be handed out again."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # SQLite has one writer at a time, and AUTOINCREMENT never reuses an id: the ids past
            # the largest ever handed out are free, and inserting them moves the counter on.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            largest = max(
                row[0] if row else 0,
                model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0,
            )
            return list(range(largest + 1, largest + 1 + count))
    raise CommandError(f"seed_demo does not know how to reserve ids on {connection.vendor}.")
