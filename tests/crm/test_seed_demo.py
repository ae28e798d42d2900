"""manage.py seed_demo: what someone trying the demo notices, and that the rows written in bulk
are the rows the services write."""

import hashlib
import re
from collections import Counter
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm import demo
from crm.demo.engagement import (
    crowd_plans,
    engagement_write_in_bulk,
    engagement_write_through_services,
    people,
)
from crm.management.commands.seed_demo import (
    people_write_in_bulk,
    person_write_through_services,
    world_write,
)
from crm.models import AuditEntry, Channel, OutboundEmail, Role, User
from customers.models import (
    Activity,
    ActivityKind,
    Cart,
    Comment,
    ContactKind,
    ContactPoint,
    Customer,
    MergeSuggestion,
    MergeSuggestionStatus,
    Touch,
    Visit,
    WishListItem,
)
from customers.services import merge_suggestions_find
from orders.models import (
    Category,
    Fulfilment,
    ItemCondition,
    Order,
    OrderLine,
    Pickup,
    PickupStatus,
    Product,
    Return,
    ReturnStatus,
)
from stores.models import StockLevel, StockMovement, Store, StoreKind
from stores.selectors import WAITING, store_dashboard
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = 60


@pytest.fixture(autouse=True)
def _development_settings(settings: Any) -> None:
    settings.DEBUG = True  # seed_demo refuses to hand out published passwords in production
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_demo(seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", customers=CUSTOMERS, seed=seed, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return seed_demo()


def test_the_demo_has_stores_a_catalogue_and_two_years_of_orders(seeded: str) -> None:
    assert Store.objects.filter(kind=StoreKind.STORE).count() == 6
    assert Store.objects.get(kind=StoreKind.WAREHOUSE).code == "web"
    assert Category.objects.count() == 10
    assert Product.objects.count() == 300
    assert Customer.objects.count() == CUSTOMERS
    now = timezone.now()
    span = Order.objects.aggregate(first=models.Min("placed_at"), last=models.Max("placed_at"))
    assert now - timedelta(days=731) < span["first"] < now - timedelta(days=600)
    assert span["last"] < now
    assert set(Order.objects.values_list("channel", flat=True)) >= {Channel.WEB, Channel.STORE}
    # Every order adds up and is on its customer's timeline.
    mismatched = Order.objects.annotate(lines_total=models.Sum("lines__line_total")).exclude(
        total=models.F("lines_total") + models.F("shipping")
    )
    assert not mismatched.exists()
    placed = Activity.objects.filter(kind=ActivityKind.ORDER_PLACED, subject_type="order")
    assert dict(placed.values_list("subject_id", "customer")) == dict(
        Order.objects.values_list("number", "customer")
    )
    assert all(
        re.fullmatch(r"[WSPK]1\d{5}", n) for n in Order.objects.values_list("number", flat=True)
    )
    assert "Demo data loaded" in seeded


def test_every_product_has_stock_somewhere_and_some_stores_are_sold_out(seeded: str) -> None:
    levels = StockLevel.objects.all()
    stocked = set(levels.values_list("product", flat=True))
    assert stocked == set(Product.objects.values_list("pk", flat=True))
    online = levels.filter(store__kind=StoreKind.WAREHOUSE)
    assert 250 < online.count() < 300  # a few items are sold out online
    for store in Store.objects.filter(kind=StoreKind.STORE):
        held = levels.filter(store=store).count()
        assert 200 < held < 300, store  # most items on every shelf, not all
    assert not levels.exclude(on_hand__gt=0).exists()
    # Only the waiting pickups hold stock.
    assert levels.filter(reserved__gt=0).exists()
    # The audit trail explains every level: its last movement ends at it.
    last = {}
    for movement in StockMovement.objects.order_by("id"):
        last[movement.store_id, movement.product_id] = (
            movement.on_hand_after,
            movement.reserved_after,
        )
    assert last == {
        (level.store_id, level.product_id): (level.on_hand, level.reserved) for level in levels
    }


def test_the_story_customer_is_found_by_her_phone_in_another_format_with_every_channel(
    seeded: str, client: Client
) -> None:
    client.force_login(User.objects.get(email="rep@demo.example.com"))

    response = client.get(reverse("customers:search"), {"q": "415.555.0134"})

    maya = Customer.objects.get(
        contact_points__kind=ContactKind.PHONE, contact_points__value="+14155550134"
    )
    assert response.status_code == 302 and response["Location"] == maya.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert "Maya Johnson" in page
    assert "Web shop order" in page and "Store order" in page
    assert set(maya.contact_points.values_list("kind", "value")) == {
        (ContactKind.PHONE, "+14155550134"),
        (ContactKind.EMAIL, "maya.johnson@example.com"),
        (ContactKind.LOYALTY, "LC41500134"),
    }
    orders = maya.orders.all()
    assert set(orders.values_list("channel", flat=True)) == {Channel.WEB, Channel.STORE}
    # Seven purchases and a web order she picked up at Union Square.
    assert maya.activities.filter(kind=ActivityKind.ORDER_PLACED).count() == orders.count() == 8
    assert maya.activities.filter(kind=ActivityKind.COMMENT_ADDED).count() == 2
    assert maya.activities.filter(kind=ActivityKind.CONTACT_ADDED).count() == 2


def test_the_deliberate_duplicates_wait_as_open_merge_suggestions(
    seeded: str, client: Client
) -> None:
    suggestions = MergeSuggestion.objects.filter(status=MergeSuggestionStatus.OPEN)

    pairs = {(s.customer_a.full_name, s.customer_b.full_name, s.reason) for s in suggestions}

    assert pairs == {
        ("Grace Miller", "Grace Miller", "Same name and address"),
        ("Carlos Mendoza", "Carlos Mendoza", "Same name and address"),
        ("Emily Davis", "Emily Davis", "Same name and address"),
        ("Olivia Brown", "Olivia Brown", "Shared phone +12065550108"),
    }
    client.force_login(User.objects.get(email="supervisor@demo.example.com"))
    assert "Grace Miller" in client.get(reverse("customers:merge_list")).content.decode()


def test_every_demo_login_signs_in_with_its_role(seeded: str) -> None:
    expected = {
        "customer@demo.example.com": (Role.CUSTOMER, set()),
        "associate@demo.example.com": (Role.ASSOCIATE, {"sfo"}),
        "manager@demo.example.com": (Role.MANAGER, {"sfo"}),
        "manager2@demo.example.com": (Role.MANAGER, {"nyc"}),
        "rep@demo.example.com": (Role.REP, set()),
        "supervisor@demo.example.com": (Role.SUPERVISOR, set()),
        "admin@demo.example.com": (Role.ADMIN, set()),
    }
    for email, (role, stores) in expected.items():
        user = User.objects.get(email=email)
        assert (user.role, set(user.memberships.values_list("store__code", flat=True))) == (
            role,
            stores,
        )
        response = Client().post(
            reverse("account_login"), {"login": email, "password": demo.DEMO_PASSWORD}
        )
        assert response.status_code == 302, email
        assert email in seeded
    # "Store 1" and "store 2" are the first two stores made.
    assert list(Store.objects.order_by("pk").values_list("code", flat=True)[:2]) == ["sfo", "nyc"]
    admin = User.objects.get(email="admin@demo.example.com")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(email="customer@demo.example.com").customer.full_name == "Maya Johnson"
    assert "http://127.0.0.1:8000" in seeded and demo.DEMO_PASSWORD in seeded


def test_store_1_has_pickups_in_every_state_and_returns(seeded: str) -> None:
    sfo = Store.objects.get(code="sfo")
    statuses = Counter(Pickup.objects.filter(store=sfo).values_list("status", flat=True))
    assert statuses[PickupStatus.PLACED] >= 3
    assert statuses[PickupStatus.READY] >= 2
    assert statuses[PickupStatus.COLLECTED] >= 2
    assert statuses[PickupStatus.PREPARING] and statuses[PickupStatus.EXPIRED]
    assert Pickup.objects.filter(store__code="nyc").count() >= 3
    dashboard = store_dashboard(store=sfo)
    assert dashboard.waiting_by_age[PickupStatus.PLACED]["older"] >= 1
    assert dashboard.waiting_by_age[PickupStatus.PLACED]["today"] >= 1
    assert dashboard.expiring_soon
    # Every waiting pickup holds its stock; a collected one sold it.
    for pickup in Pickup.objects.filter(status__in=WAITING):
        for line in pickup.order.lines.all():
            assert StockLevel.objects.get(store=pickup.store, product=line.product).reserved > 0
    assert Pickup.objects.filter(status=PickupStatus.COLLECTED).exclude(collected_at=None).exists()

    returns = Return.objects.filter(store=sfo, status=ReturnStatus.COMPLETED)
    assert returns.count() >= 4
    assert returns.filter(order__channel=Channel.WEB).exists()
    assert returns.filter(refund_shipping__gt=0).exists()
    assert returns.filter(lines__condition=ItemCondition.WRITE_OFF).exists()
    assert len(set(returns.values_list("lines__reason", flat=True))) >= 3
    assert returns.filter(created_at__date__lt=timezone.now().date()).exists()
    assert Return.objects.filter(status=ReturnStatus.AWAITING_ITEMS, store=None).count() == 1
    assert OutboundEmail.objects.exists()


def test_the_portal_customer_picked_up_a_web_order(seeded: str, client: Client) -> None:
    maya = Customer.objects.get(user__email="customer@demo.example.com")
    pickup = Pickup.objects.get(order__customer=maya)
    assert (pickup.store.code, pickup.status) == ("sfo", PickupStatus.COLLECTED)
    kinds = list(
        maya.activities.filter(subject_id=pickup.order.number)
        .order_by("occurred_at")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        ActivityKind.ORDER_PLACED,
        ActivityKind.PICKUP_READY,
        ActivityKind.PICKUP_COLLECTED,
    ]
    client.force_login(User.objects.get(email="manager@demo.example.com"))
    page = client.get(maya.get_absolute_url()).content.decode()
    assert f"Order {pickup.order.number} collected at" in page


def test_the_customer_login_sees_her_orders_from_every_channel(seeded: str) -> None:
    client = Client()
    client.force_login(User.objects.get(email="customer@demo.example.com"))

    page = client.get(reverse("account_home")).content.decode()

    numbers = Order.objects.filter(customer__user__email="customer@demo.example.com")
    assert all(number in page for number in numbers.values_list("number", flat=True))


ROW_KINDS = (Store, Product, StockLevel, StockMovement, User, Customer, ContactPoint, Order,
             OrderLine, Activity, Comment, MergeSuggestion, AuditEntry, Pickup, Return,
             OutboundEmail, Touch, Visit, WishListItem, Cart)  # fmt: skip


def test_running_it_again_changes_nothing(seeded: str) -> None:
    before = {model: (model.objects.count(), model.objects.aggregate(top=models.Max("pk"))["top"])
              for model in ROW_KINDS}  # fmt: skip

    again = seed_demo(seed=8)

    assert "already loaded" in again and "rep@demo.example.com" in again
    assert {model: (model.objects.count(), model.objects.aggregate(top=models.Max("pk"))["top"])
            for model in ROW_KINDS} == before  # fmt: skip


def _digest() -> str:
    """Names, contact details, orders and comments, without ids or order numbers."""
    # Pickups are the stores' live work, timed from the moment the seed runs (to the minute), and
    # so is a counter customer's first day with the retailer.
    at_the_counter = Customer.objects.filter(orders__fulfilment=Fulfilment.PICKUP)
    rows = [
        *Customer.objects.exclude(pk__in=at_the_counter).values_list(
            "search_name", "address_line1", "postcode", "customer_since"),
        *at_the_counter.distinct().values_list("search_name", "address_line1", "postcode"),
        *ContactPoint.objects.values_list("kind", "value", "source"),
        *Order.objects.exclude(fulfilment=Fulfilment.PICKUP).values_list(
            "customer__search_name", "channel", "store__code", "placed_at", "status", "total"),
        *Order.objects.filter(fulfilment=Fulfilment.PICKUP).values_list(
            "customer__search_name", "pickup_store__code", "status", "total"),
        *Comment.objects.values_list("customer__search_name", "author__email", "body",
                                     "created_at"),
    ]  # fmt: skip
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


def _digest_of_a_fresh_seed(seed: int) -> str:
    savepoint = transaction.savepoint_create()
    seed_demo(seed=seed)
    digest = _digest()
    transaction.savepoint_rollback(savepoint)
    return digest


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first = _digest_of_a_fresh_seed(7)

    assert _digest_of_a_fresh_seed(7) == first
    assert _digest_of_a_fresh_seed(8) != first


def test_it_refuses_to_mix_demo_data_with_other_data() -> None:
    StoreFactory()

    with pytest.raises(CommandError, match="only fills an empty database"):
        seed_demo()


def test_it_refuses_to_run_in_production(settings: Any) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="development"):
        seed_demo()
    assert not Store.objects.exists()


# The crowd is written with bulk INSERTs; these must be exactly the rows the services would write
# for the same histories, so the demo shows what production data looks like.


def _history_snapshot() -> list[Any]:
    """Every customer's record, orders, timeline and comments, with ids and numbers replaced by
    their position, so that two databases holding the same histories compare equal."""
    customers = {pk: i for i, pk in enumerate(
        Customer.objects.order_by("customer_since", "pk").values_list("pk", flat=True)
    )}  # fmt: skip
    numbers = {n: f"order-{i}" for i, n in enumerate(
        Order.objects.order_by("placed_at", "pk").values_list("number", flat=True))}  # fmt: skip
    comments = {str(pk): f"comment-{i}" for i, pk in enumerate(
        Comment.objects.order_by("created_at", "pk").values_list("pk", flat=True))}  # fmt: skip

    def mask(text: str) -> str:
        return re.sub(r"\b[WSPK]1\d{5,}\b", lambda m: numbers[m.group()], text)

    def code(store: Store | None) -> str:
        return store.code if store else ""

    snapshot: list[Any] = []
    for customer in Customer.objects.order_by("customer_since", "pk").select_related("home_store"):
        snapshot.append((
            [getattr(customer, f) for f in ("first_name", "last_name", "search_name",
             "address_line1", "city", "postcode", "country", "customer_since", "user_id",
             "merged_into_id")] + [code(customer.home_store)],
            sorted(customer.contact_points.values_list("kind", "value", "source", "verified")),
            [(numbers[o.number], o.channel, code(o.store), o.status, o.placed_at, o.currency,
              o.subtotal, o.shipping, o.total, o.external_source, o.external_id,
              list(o.lines.values_list("product__sku", "sku", "name", "quantity", "unit_price",
                                       "line_total")))
             for o in customer.orders.order_by("placed_at", "pk").select_related("store")],
            [(a.occurred_at, a.kind, a.channel, code(a.store), mask(a.summary), a.detail,
              a.actor.email if a.actor else "", a.actor_role, a.subject_type,
              comments.get(a.subject_id) or mask(a.subject_id))
             for a in customer.activities.order_by("occurred_at", "pk").select_related(
                 "store", "actor")],
            [(c.author.email, c.author_role, code(c.store), c.body, c.created_at)
             for c in customer.comments.order_by("created_at", "pk").select_related(
                 "store", "author")],
        ))  # fmt: skip
    audit = sorted(
        (e.actor.email, e.action, e.object_type, comments[e.object_id], e.occurred_at,
         customers[e.data["customer"]])
        for e in AuditEntry.objects.filter(action="comment.add").select_related("actor")
    )  # fmt: skip
    return [snapshot, audit]


def test_rows_written_in_bulk_are_the_rows_the_services_write() -> None:
    world = world_write()
    plans = list(demo.crowd(seed=3, count=40, today=timezone.now().date()))

    savepoint = transaction.savepoint_create()
    people_write_in_bulk(plans, world)
    in_bulk = _history_snapshot()
    transaction.savepoint_rollback(savepoint)
    for plan in plans:
        person_write_through_services(plan, world)
    through_services = _history_snapshot()

    assert in_bulk == through_services
    kinds = {entry[1] for customer in in_bulk[0] for entry in customer[3]}
    assert kinds == {
        ActivityKind.ORDER_PLACED,
        ActivityKind.CONTACT_ADDED,
        ActivityKind.COMMENT_ADDED,
    }
    # No accidental twins: the services would find nothing to suggest merging in the crowd.
    assert not any(
        merge_suggestions_find(customer_id=pk)
        for pk in Customer.objects.values_list("pk", flat=True)
    )


# Marketing and web activity: the story customer's through the services, the crowd's in bulk.

ENGAGEMENT_KINDS = (
    ActivityKind.OFFER_SENT, ActivityKind.OFFER_OPENED, ActivityKind.OFFER_CLICKED,
    ActivityKind.OFFER_REDEEMED, ActivityKind.VISIT, ActivityKind.WISHLIST_CHANGED,
    ActivityKind.CART_ABANDONED, ActivityKind.CART_RECOVERED,
)  # fmt: skip


def test_the_portal_customer_answered_offers_visited_and_left_carts(
    seeded: str, client: Client
) -> None:
    maya = Customer.objects.get(user__email="customer@demo.example.com")
    touches = maya.touches.all()
    outcomes = Counter(
        "redeemed" if t.redeemed_at else "clicked" if t.clicked_at else
        "opened" if t.opened_at else "sent" for t in touches
    )  # fmt: skip
    assert set(outcomes) == {"sent", "opened", "clicked", "redeemed"}
    redeemed = touches.exclude(redeemed_order=None)
    assert redeemed.count() >= 3
    assert all(t.redeemed_order.customer_id == maya.pk for t in redeemed)
    # An e-mail offer redeemed at a store's till.
    assert redeemed.filter(channel="email", redeemed_order__channel=Channel.STORE).exists()
    assert {"email", "sms", "mail", "store"} <= set(touches.values_list("channel", flat=True))
    assert len(set(maya.visits.values_list("source", flat=True))) >= 5
    assert maya.visits.filter(occurred_at__gte=timezone.now() - timedelta(days=30)).count() >= 5
    assert maya.wish_list_items.filter(removed_at=None).count() == 3
    assert maya.carts.filter(recovered_at=None).count() == 2
    assert maya.carts.exclude(recovered_order=None).get().recovered_order.customer_id == maya.pk
    # All in the past, on her timeline.
    assert not maya.activities.filter(occurred_at__gt=timezone.now()).exists()
    assert maya.activities.filter(kind__in=ENGAGEMENT_KINDS).count() >= 40

    client.force_login(User.objects.get(email="associate@demo.example.com"))
    offers = client.get(reverse("customers:offers", args=[maya.pk])).content.decode()
    assert "Outerwear Preview" in offers and "Redeemed" in offers
    carts = client.get(reverse("customers:carts", args=[maya.pk])).content.decode()
    assert "Left at payment" in carts and "Recovered" in carts


def test_a_good_share_of_the_crowd_has_engagement(seeded: str) -> None:
    crowd = Customer.objects.exclude(user__isnull=False).count()
    with_offers = Touch.objects.values("customer").distinct().count()
    with_visits = Visit.objects.values("customer").distinct().count()
    assert with_offers > crowd / 3 and with_visits > crowd / 3
    assert WishListItem.objects.values("customer").distinct().count() >= 3
    assert Cart.objects.values("customer").distinct().count() >= 3
    assert Touch.objects.exclude(redeemed_order=None).count() >= 3
    assert Cart.objects.exclude(recovered_order=None).exists()
    # Every redemption and recovery names one of the customer's own orders.
    assert (
        not Touch.objects.exclude(redeemed_order=None)
        .exclude(redeemed_order__customer=models.F("customer"))
        .exists()
    )
    assert (
        not Cart.objects.exclude(recovered_order=None)
        .exclude(recovered_order__customer=models.F("customer"))
        .exists()
    )
    # Each event is on its customer's timeline, once.
    assert Activity.objects.filter(kind=ActivityKind.OFFER_SENT).count() == Touch.objects.count()
    assert Activity.objects.filter(kind=ActivityKind.VISIT).count() == Visit.objects.count()


def _engagement_snapshot() -> list[Any]:
    """Every customer's touches, visits, wish list, carts, their timeline entries and audit, with
    ids replaced by what the row is (its external id, its time), so that two databases holding
    the same engagement compare equal."""
    touches = {str(pk): f"touch {e}" for pk, e in Touch.objects.values_list("pk", "external_id")}
    carts = {str(pk): f"cart {e}" for pk, e in Cart.objects.values_list("pk", "external_id")}
    visits = {
        str(pk): f"visit {c} {at.isoformat()}"
        for pk, c, at in Visit.objects.values_list("pk", "customer__search_name", "occurred_at")
    }
    items = {
        str(pk): f"item {c} {sku} {at.isoformat()}"
        for pk, c, sku, at in WishListItem.objects.values_list(
            "pk", "customer__search_name", "product__sku", "added_at"
        )
    }
    subjects = {"touch": touches, "cart": carts, "visit": visits}
    objects = {
        Touch._meta.label_lower: touches,
        Cart._meta.label_lower: carts,
        Visit._meta.label_lower: visits,
        WishListItem._meta.label_lower: items,
    }
    snapshot: list[Any] = []
    for customer in Customer.objects.order_by("customer_since", "pk"):
        snapshot.append((
            customer.search_name,
            sorted((t.source, t.external_id, t.campaign, t.promotion_code, t.offer_type,
                    t.offer_value, t.description, t.channel, t.sent_at, t.opened_at, t.clicked_at,
                    t.redeemed_at, t.redeemed_order.number if t.redeemed_order else "")
                   for t in customer.touches.select_related("redeemed_order")),
            sorted(customer.visits.values_list("source", "occurred_at", "referrer", "campaign",
                                               "landing_page")),
            sorted(customer.wish_list_items.values_list("product__sku", "added_at",
                                                        "removed_at")),
            sorted((c.source, c.external_id, repr(c.items), c.value, c.abandoned_at,
                    c.abandoned_step, c.recovered_at,
                    c.recovered_order.number if c.recovered_order else "")
                   for c in customer.carts.select_related("recovered_order")),
            sorted((a.occurred_at, a.kind, a.channel, a.summary, a.detail, a.actor_id,
                    a.subject_type, subjects.get(a.subject_type, {}).get(a.subject_id,
                                                                         a.subject_id))
                   for a in customer.activities.filter(kind__in=ENGAGEMENT_KINDS)),
        ))  # fmt: skip
    audit = sorted(
        (e.action, e.object_type, objects[e.object_type][e.object_id], repr(e.data), e.actor_id)
        for e in AuditEntry.objects.filter(object_type__in=objects)
    )
    return [snapshot, audit]


def test_engagement_written_in_bulk_is_what_the_services_write() -> None:
    world = world_write()
    today = timezone.now().date()
    people_write_in_bulk(list(demo.crowd(seed=3, count=120, today=today)), world)
    products = {sku: product for sku, product in world.products.items() if product.is_active}
    plans = list(crowd_plans(people(), seed=3, today=today, products=products))

    savepoint = transaction.savepoint_create()
    engagement_write_in_bulk(plans, products)
    in_bulk = _engagement_snapshot()
    transaction.savepoint_rollback(savepoint)
    for plan in plans:
        engagement_write_through_services(plan)
    through_services = _engagement_snapshot()

    assert in_bulk == through_services
    assert {entry[1] for customer in in_bulk[0] for entry in customer[5]} == set(ENGAGEMENT_KINDS)
    assert len(in_bulk[1]) > len(plans)
