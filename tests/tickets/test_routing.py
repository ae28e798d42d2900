"""Routing: ordered rules, conditions one by one, actions, the default queue, the recorded reason,
assignment strategies, idempotency and the cost of routing."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm.models import Channel, Role, User
from customers.models import Customer
from customers.services import Identity
from orders.models import Order, OrderStatus, Pickup, PickupStatus, Return
from stores.models import Store
from tests.factories import QueueFactory, StoreFactory, UserFactory, web_inquiry
from tickets.models import (
    Assignment,
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Priority,
    Queue,
    QueueMembership,
    RoutingRule,
    ValueTier,
)
from tickets.services.inquiries import IncomingMessage, inquiry_open
from tickets.services.routing import DEFAULT_REASON, inquiries_route, inquiry_route, value_tier

pytestmark = pytest.mark.django_db


def new_queue(**fields: object) -> Queue:
    queue: Queue = QueueFactory(**fields)
    return queue


def new_store(**fields: object) -> Store:
    store: Store = StoreFactory(**fields)
    return store


def new_user(**fields: object) -> User:
    user: User = UserFactory(**fields)
    return user


def route(inquiry: Inquiry) -> Inquiry:
    inquiry_route(inquiry_id=inquiry.pk)
    inquiry.refresh_from_db()
    return inquiry


def rule(name: str = "Rule", **fields: object) -> RoutingRule:
    fields.setdefault("queue", new_queue())
    fields.setdefault("position", RoutingRule.objects.count() + 1)
    return RoutingRule.objects.create(name=name, **fields)


def customer_of(email: str) -> Customer:
    return Customer.objects.get(contact_points__value=email)


def order_for(customer: Customer, total: str = "100.00", **fields: object) -> Order:
    return Order.objects.create(
        number=f"W{Order.objects.count() + 1000}",
        customer=customer,
        channel=Channel.WEB,
        total=Decimal(total),
        **fields,
    )


@pytest.fixture
def maya() -> Customer:
    """A customer known by e-mail, with no orders yet."""
    web_inquiry(email="maya@example.com", text="Hello")
    Inquiry.objects.all().delete()
    return customer_of("maya@example.com")


class TestDefaultQueue:
    def test_without_rules_an_inquiry_goes_to_the_default_queue_with_the_default_sla(self):
        inquiry = web_inquiry()

        routed = route(inquiry)

        default = Queue.objects.get(is_default=True)
        assert default.name == "Customer Service"
        assert routed.queue == default
        assert routed.routed_by_rule is None
        assert routed.routing_reason == DEFAULT_REASON
        assert routed.first_response_due_at == routed.created_at + timedelta(hours=6)
        assert routed.resolution_due_at == routed.created_at + timedelta(days=3)
        event = routed.events.get(kind=EventKind.ROUTED)
        assert (event.new_value, event.note) == ("Customer Service", DEFAULT_REASON)

    def test_when_no_rule_matches_the_default_queue_takes_it(self):
        rule(channels=[Channel.EMAIL])
        rule(keywords="warranty", enabled=True)

        routed = route(web_inquiry(text="Where is my parcel?"))

        assert routed.queue.is_default
        assert routed.routing_reason == DEFAULT_REASON


class TestConditions:
    def test_channel(self):
        web = rule("Web form", channels=[Channel.WEB_FORM, Channel.PORTAL])

        assert route(web_inquiry()).routed_by_rule == web
        phoned = inquiry_open(
            channel=Channel.PHONE,
            identity=Identity(phone="+1 415 555 0100"),
            message=IncomingMessage(text="Called about a parcel"),
            acknowledge=False,
        )
        assert route(phoned).routed_by_rule is None

    @pytest.mark.parametrize(
        ("subject", "text", "matches"),
        [
            ("My order", "I would like a REFUND please", True),
            ("Refund?", "Hello", True),
            ("My order", "The item\narrived   damaged in the box", True),
            ("My order", "I was refunded already", False),
            ("My order", "prefund is not a word we use", False),
            ("My order", "It arrived, damaged? No.", False),
        ],
    )
    def test_keywords_are_whole_words_or_phrases_in_subject_or_body(self, subject, text, matches):
        refunds = rule("Refunds", keywords="refund\n  arrived damaged  \n")

        routed = route(web_inquiry(subject=subject, text=text))

        assert (routed.routed_by_rule == refunds) is matches

    def test_open_pickup(self, maya):
        store = new_store()
        pickups = rule("Pickups", has_open_pickup=True)
        no_pickups = rule("No pickups", has_open_pickup=False)
        collected = order_for(maya)
        Pickup.objects.create(order=collected, store=store, status=PickupStatus.COLLECTED)

        assert route(web_inquiry()).routed_by_rule == no_pickups

        Pickup.objects.create(order=order_for(maya), store=store, status=PickupStatus.READY)
        routed = route(web_inquiry())
        assert routed.routed_by_rule == pickups
        assert routed.routing_reason == "Rule 'Pickups': customer has an open pickup"

    def test_recent_return(self, maya):
        returns = rule("Recent returns", has_recent_return=True)
        order = order_for(maya)
        Return.objects.create(
            number="R1",
            customer=maya,
            order=order,
            channel=Channel.STORE,
            created_at=timezone.now() - timedelta(days=31),
        )
        assert route(web_inquiry()).routed_by_rule is None

        Return.objects.create(
            number="R2",
            customer=maya,
            order=order,
            channel=Channel.STORE,
            created_at=timezone.now() - timedelta(days=29),
        )
        assert route(web_inquiry()).routed_by_rule == returns

    def test_value_tier_counts_orders_that_were_not_cancelled(self, maya):
        gold = rule("Gold", value_tiers=[ValueTier.GOLD, ValueTier.PLATINUM])
        order_for(maya, "600.00")
        order_for(maya, "900.00", status=OrderStatus.CANCELLED)
        assert route(web_inquiry()).routed_by_rule is None

        order_for(maya, "450.00")
        routed = route(web_inquiry())
        assert routed.routed_by_rule == gold
        assert routed.routing_reason == "Rule 'Gold': lifetime value tier is Gold"

    def test_value_tiers_follow_the_configured_thresholds(self, settings):
        settings.CRM_VALUE_TIERS = {"gold": 1000, "platinum": 5000}
        assert value_tier(Decimal("0")) == ValueTier.NEW
        assert value_tier(Decimal("999.99")) == ValueTier.STANDARD
        assert value_tier(Decimal("1000")) == ValueTier.GOLD
        assert value_tier(Decimal("5000")) == ValueTier.PLATINUM

    def test_high_maintenance(self, maya):
        careful = rule("Careful", high_maintenance=True)
        assert route(web_inquiry()).routed_by_rule is None

        Customer.objects.filter(pk=maya.pk).update(high_maintenance=True)
        assert route(web_inquiry()).routed_by_rule == careful

    def test_linked_order_status(self, maya):
        shipped = rule("In transit", order_statuses=[OrderStatus.SHIPPED])
        order = order_for(maya, status=OrderStatus.PAID)
        assert route(web_inquiry(order=order)).routed_by_rule is None
        assert route(web_inquiry()).routed_by_rule is None

        Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
        routed = route(web_inquiry(order=order))
        assert routed.routed_by_rule == shipped
        assert routed.routing_reason == "Rule 'In transit': linked order is shipped"

    def test_store(self):
        union, market = new_store(name="Union Square"), new_store(name="Market St")
        union_rule = rule("Union Square", store=union)

        assert route(web_inquiry(store=market)).routed_by_rule is None
        routed = route(web_inquiry(store=union))
        assert routed.routed_by_rule == union_rule
        assert routed.routing_reason == "Rule 'Union Square': store is Union Square"

    def test_every_set_condition_must_hold_and_the_reason_names_them(self):
        desk = rule("Returns desk", channels=[Channel.WEB_FORM], keywords="return\nrefund")

        routed = route(web_inquiry(text="Can I get a refund?"))
        assert routed.routed_by_rule == desk
        assert routed.routing_reason == (
            "Rule 'Returns desk': channel is web form, subject or body mentions 'refund'"
        )
        emailed = inquiry_open(
            channel=Channel.EMAIL,
            identity=Identity(email="maya@example.com"),
            message=IncomingMessage(text="Can I get a refund?", subject="Refund"),
        )
        assert route(emailed).routed_by_rule is None


class TestOrderAndActions:
    def test_first_enabled_match_by_position_wins(self):
        later = rule("Later", keywords="order", position=20)
        rule("Disabled", keywords="order", position=5, enabled=False)
        first = rule("First", keywords="order", position=10)

        routed = route(web_inquiry(text="About my order"))

        assert routed.routed_by_rule == first
        assert routed.queue == first.queue
        RoutingRule.objects.filter(pk=first.pk).update(position=30)
        assert route(web_inquiry(text="About my order")).routed_by_rule == later

    def test_queue_priority_and_tags_are_applied_and_the_sla_follows_the_queue_policy(self):
        team = new_queue(name="Escalations")
        team.sla_policies.create(
            priority=Priority.URGENT, first_response_minutes=30, resolution_minutes=240
        )
        rule(
            "Angry", keywords="lawyer", queue=team, priority=Priority.URGENT, tags=["legal", "vip"]
        )
        inquiry = web_inquiry(text="I will call my lawyer")
        Inquiry.objects.filter(pk=inquiry.pk).update(tags=["vip", "web"])

        routed = route(inquiry)

        assert routed.queue == team
        assert routed.priority == Priority.URGENT
        assert routed.tags == ["vip", "web", "legal"]
        assert routed.first_response_due_at == routed.created_at + timedelta(minutes=30)
        assert routed.resolution_due_at == routed.created_at + timedelta(hours=4)

    def test_a_rule_without_priority_keeps_the_inquiry_priority(self):
        rule("Any")
        assert route(web_inquiry()).priority == Priority.NORMAL


class TestAssignment:
    @pytest.fixture
    def team(self):
        team = new_queue(name="Returns")
        self.ann, self.bob, self.cid = (new_user(first_name=n, last_name="X") for n in "ABC")
        now = timezone.now()
        for user, last in [(self.ann, 2), (self.bob, None), (self.cid, 1)]:
            QueueMembership.objects.create(
                queue=team,
                user=user,
                last_assigned_at=now - timedelta(hours=last) if last else None,
            )
        return team

    def test_round_robin_gives_each_available_member_a_turn(self, team):
        rule("Returns", queue=team, assignment=Assignment.ROUND_ROBIN)
        QueueMembership.objects.filter(user=self.cid).update(is_available=False)

        assignees = [route(web_inquiry()).assignee for _ in range(4)]

        # Bob never had one, Ann had one longest ago; Cid is away.
        assert assignees == [self.bob, self.ann, self.bob, self.ann]
        last = QueueMembership.objects.get(user=self.ann).last_assigned_at
        assert last is not None
        assert last > timezone.now() - timedelta(minutes=1)

    def test_fewest_open_gives_it_to_the_lightest_load(self, team):
        rule("Returns", queue=team, assignment=Assignment.FEWEST_OPEN)
        for user, count in [(self.ann, 1), (self.bob, 2), (self.cid, 0)]:
            for _ in range(count):
                Inquiry.objects.filter(pk=web_inquiry().pk).update(assignee=user)
        resolved = web_inquiry()
        Inquiry.objects.filter(pk=resolved.pk).update(
            assignee=self.cid, status=InquiryStatus.RESOLVED
        )
        Inquiry.objects.update(routed_at=timezone.now())  # out of the way of the next routing

        first = route(web_inquiry())
        second = route(web_inquiry())
        third = route(web_inquiry())

        assert first.assignee == self.cid  # nothing open; the resolved one doesn't count
        assert second.assignee == self.ann  # one open each, Ann assigned longest ago
        assert third.assignee == self.cid
        assert first.events.get(kind=EventKind.ASSIGNEE).new_value == str(self.cid)

    def test_no_available_member_leaves_it_unassigned(self, team):
        rule("Returns", queue=team, assignment=Assignment.ROUND_ROBIN)
        QueueMembership.objects.update(is_available=False)

        routed = route(web_inquiry())

        assert (routed.queue, routed.assignee) == (team, None)


def test_a_routed_inquiry_is_not_routed_again():
    inquiry = web_inquiry()
    assert inquiry_route(inquiry_id=inquiry.pk) is not None
    rule("Everything", keywords="order")

    assert inquiry_route(inquiry_id=inquiry.pk) is None

    inquiry.refresh_from_db()
    assert inquiry.queue.is_default
    assert inquiry.events.filter(kind=EventKind.ROUTED).count() == 1


@pytest.mark.parametrize("rule_count", [3, 60])
def test_routing_costs_the_same_few_queries_whatever_the_number_of_rules(
    rule_count, django_assert_max_num_queries
):
    team = new_queue()
    new_user(role=Role.REP)
    QueueMembership.objects.create(queue=team, user=new_user())
    for n in range(rule_count):
        rule(f"Rule {n}", queue=team, keywords=f"word{n}", has_recent_return=bool(n % 2))
    rule("Last", queue=team, value_tiers=[ValueTier.NEW], assignment=Assignment.FEWEST_OPEN)
    inquiry = web_inquiry()

    with django_assert_max_num_queries(12):
        inquiry_route(inquiry_id=inquiry.pk)

    inquiry.refresh_from_db()
    assert inquiry.routed_by_rule.name == "Last"
    assert inquiry.assignee is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_routings_to_a_queue_take_turns_instead_of_picking_the_same_member():
    team = new_queue(name="Returns")
    ann, bob = new_user(), new_user()
    QueueMembership.objects.create(queue=team, user=ann)
    QueueMembership.objects.create(queue=team, user=bob)
    rule("Returns", queue=team, assignment=Assignment.ROUND_ROBIN)
    # Created directly: the intake would route them at once, one after the other.
    first, second = (
        Inquiry.objects.create(channel=Channel.WEB_FORM, subject=f"Return {n}") for n in (1, 2)
    )
    routed_first = threading.Event()

    def route_and_linger() -> None:
        try:
            with transaction.atomic():
                inquiry_route(inquiry_id=first.pk)
                routed_first.set()
                time.sleep(1)  # still uncommitted while the second routing starts
        finally:
            connection.close()

    def route_second() -> None:
        try:
            routed_first.wait(5)
            inquiry_route(inquiry_id=second.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=route_and_linger), threading.Thread(target=route_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    first.refresh_from_db()
    second.refresh_from_db()
    assert {first.assignee, second.assignee} == {ann, bob}


@pytest.mark.parametrize("waiting", [3, 30])
def test_a_routing_takes_the_inquiries_waiting_with_it_reading_the_rules_once(
    waiting, django_assert_max_num_queries
):
    team = new_queue(name="Orders")
    rule("Orders", queue=team, keywords="order", has_recent_return=False)
    older = [web_inquiry(subject=f"My order {n}") for n in range(waiting - 1)]
    own = web_inquiry(subject="Where is my order?")

    # shared reads once (inquiries, rules, customers, policy, events, audit), one write each
    with django_assert_max_num_queries(8 + waiting):
        routed = inquiries_route(inquiry_id=own.pk)

    assert [inquiry.pk for inquiry in routed] == [own.pk, *(inquiry.pk for inquiry in older)]
    assert set(Inquiry.objects.values_list("queue__name", flat=True)) == {"Orders"}
    assert InquiryEvent.objects.filter(kind=EventKind.ROUTED).count() == waiting
    assert inquiries_route(inquiry_id=own.pk) == []


def test_a_routing_takes_at_most_a_batch_and_its_own_inquiry_first():
    inquiries = [web_inquiry() for _ in range(5)]

    routed = inquiries_route(inquiry_id=inquiries[3].pk, batch=3)

    assert [inquiry.pk for inquiry in routed] == [inquiries[n].pk for n in (3, 0, 1)]
    assert Inquiry.objects.filter(routed_at__isnull=True).count() == 2


def test_routing_one_inquiry_again_routes_nothing_else():
    routed, waiting = web_inquiry(), web_inquiry()
    inquiry_route(inquiry_id=routed.pk)

    assert inquiry_route(inquiry_id=routed.pk) is None

    waiting.refresh_from_db()
    assert waiting.routed_at is None
