"""Customer insights where staff meet the customer: the 360 page, the inquiry page, the pickup
counter, the returns desk and the kiosk order form; the supervisors' thresholds page; and a
property test that the insight kept current event by event equals a full rebuild."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import AuditEntry, Channel, Role, User
from customers.engagement import touch_event, touch_record, visit_record
from customers.insights.figures import insights_compute
from customers.insights.selectors import insight_panel_for
from customers.models import Customer, CustomerInsight, InsightThresholds, OfferType, VisitSource
from customers.services import Identity, comment_add, customer_merge
from orders.models import Order, OrderStatus, Pickup, PickupStatus, Return, ReturnReason
from orders.services import LineInput, order_record, pickup_set_status
from orders.services.returns import return_create, return_receive, return_request_online
from orders.services.status import order_set_status
from tests.customers.factories_insights import Shop, build_shop, committed, stored, window
from tests.factories import UserFactory, store_staff, web_inquiry
from tickets.models import Inquiry, InquiryStatus
from tickets.services.callbacks import callback_request
from tickets.services.customer_side import inquiry_rate
from tickets.services.inquiries import inquiry_set_status
from tickets.services.workspace import inquiry_log_call

pytestmark = pytest.mark.django_db

MAYA = "maya@example.com"


@pytest.fixture
def shop() -> Shop:
    return build_shop()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def demanding_regular(shop: Shop, orders: int = 3) -> Customer:
    """Maya orders a jacket every ten days, returns most of them and writes in a lot."""
    spacing = min(10, 20 / max(orders - 1, 1))
    for n in range(orders):
        order = shop.order(MAYA, [("JKT", 1), ("SCK", 1)], days_ago=25 - spacing * n)
        shop.give_back(order, "JKT", 1)
        for _ in range(2):
            with committed():
                web_inquiry(email=MAYA)
    return Customer.objects.get(contact_points__value=MAYA)


def quiet_customer(shop: Shop, email: str = "quiet@example.com") -> Customer:
    """A customer known from one inquiry, who never ordered."""
    with committed():
        web_inquiry(email=email)
    return Customer.objects.get(contact_points__value=email)


def squeezed(html: str) -> str:
    """The markup with its layout whitespace closed up."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def flag_badges(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('class="insight-flag insight-flag-')[1:]]


class TestThe360Page:
    def test_shows_figures_and_flags_with_their_reasons(self, shop) -> None:
        customer = demanding_regular(shop)

        html = signed_in(shop.rep).get(customer.get_absolute_url()).content.decode()

        assert 'id="insights"' in html
        assert flag_badges(html) == ["high_maintenance"]
        reason = "Returned 50% of the items she bought (threshold 30%)"
        # The reason is the hover title and text for screen readers and the keyboard.
        assert f'title="{reason}' in html
        assert f'<span class="visually-hidden">: {reason}' in html
        assert 'tabindex="0"' in html
        assert "every 10 days on average" in html
        # Three orders of 130.00, each jacket (120.00) back.
        assert "$30.00 <span" in html and "net of $360.00 returned" in html
        # Only supervisors and admins are offered the thresholds.
        assert reverse("customers:insight_thresholds") not in html
        supervisor_page = signed_in(shop.supervisor).get(customer.get_absolute_url())
        assert reverse("customers:insight_thresholds") in supervisor_page.content.decode()

    def test_empty_states(self, shop) -> None:
        quiet = quiet_customer(shop)
        nobody = Customer.objects.create(first_name="No", last_name="History")
        client = signed_in(shop.rep)

        html = client.get(quiet.get_absolute_url()).content.decode()
        assert "No orders yet: nothing to say about what she buys." in html
        assert "1 inquiry, 0 calls, 0 call-backs" in html
        html = client.get(nobody.get_absolute_url()).content.decode()
        assert "No history to learn from yet" in html

    def test_user_text_is_escaped(self, shop) -> None:
        customer = shop.order(MAYA, [("SCK", 1)]).customer
        with committed():
            visit_record(
                customer=customer, source=VisitSource.PROMOTION, campaign="<script>x()</script>"
            )
        insight = stored(customer)
        insight.first_touch_kind, insight.first_touch_campaign = "visit", "<script>x()</script>"
        insight.save()

        html = signed_in(shop.rep).get(customer.get_absolute_url()).content.decode()

        assert "<script>x()</script>" not in html
        assert "&lt;script&gt;x()&lt;/script&gt;" in html

    @pytest.mark.parametrize("orders", [1, 12])
    def test_query_budget(self, shop, orders, django_assert_max_num_queries) -> None:
        demanding_regular(shop, orders=orders)
        client = signed_in(shop.manager)
        url = Customer.objects.get(contact_points__value=MAYA).get_absolute_url()

        # The same budget as without insights: they come with the customer's own query.
        with django_assert_max_num_queries(12):
            response = client.get(url)

        assert response.status_code == 200
        assert response.context["insight"].insight.order_count == orders


class TestThresholdsPage:
    URL = "customers:insight_thresholds"

    def values(self, **changes: str) -> dict[str, str]:
        defaults = InsightThresholds()
        data = {
            name: str(getattr(defaults, name))
            for name in (
                "returns_rate_percent",
                "contacts_per_order",
                "valuable_lifetime_value",
                "at_risk_min_orders",
                "at_risk_variation_percent",
                "at_risk_silence_factor",
                "cross_sell_min_orders",
                "offer_min_sample",
            )
        }
        return data | changes

    @pytest.mark.parametrize("role", [Role.REP, Role.ASSOCIATE, Role.MANAGER, Role.CUSTOMER])
    def test_only_supervisors_and_admins(self, shop, role) -> None:
        user = (
            store_staff(shop.store, role)
            if role in (Role.ASSOCIATE, Role.MANAGER)
            else UserFactory.create(role=role)
        )
        client = signed_in(user)

        assert client.get(reverse(self.URL)).status_code == 403
        assert (
            client.post(reverse(self.URL), self.values(at_risk_min_orders="9")).status_code == 403
        )
        assert not InsightThresholds.objects.exists()
        anonymous = Client().get(reverse(self.URL))
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        for allowed in (Role.SUPERVISOR, Role.ADMIN):
            assert (
                signed_in(UserFactory.create(role=allowed)).get(reverse(self.URL)).status_code
                == 200
            )

    def test_saving_applies_at_once_on_the_customer_pages(self, shop) -> None:
        customer = demanding_regular(shop)
        client = signed_in(shop.supervisor)
        assert flag_badges(client.get(customer.get_absolute_url()).content.decode()) == [
            "high_maintenance"
        ]

        response = client.post(
            reverse(self.URL), self.values(returns_rate_percent="60"), follow=True
        )

        assert "Insight thresholds saved" in response.content.decode()
        assert InsightThresholds.objects.get().returns_rate_percent == Decimal("60.0")
        assert AuditEntry.objects.filter(action="insight_thresholds.update").count() == 1
        assert flag_badges(client.get(customer.get_absolute_url()).content.decode()) == []

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("returns_rate_percent", "101", "less than or equal to 100"),
            ("contacts_per_order", "-1", "greater than or equal to 0"),
            ("at_risk_min_orders", "1", "greater than or equal to 2"),
            ("at_risk_silence_factor", "abc", "Enter a number."),
            ("offer_min_sample", "", "Enter a value for"),
            ("valuable_lifetime_value", "10.555", "no more than 2 decimal places"),
        ],
    )
    def test_bad_input_shows_errors_and_changes_nothing(self, shop, field, value, message) -> None:
        client = signed_in(shop.supervisor)

        # A valid change sent along with the bad one is not saved either.
        changes = {"at_risk_silence_factor": "3"} if field != "at_risk_silence_factor" else {}
        response = client.post(reverse(self.URL), self.values(**changes, **{field: value}))

        assert response.status_code == 400
        html = response.content.decode()
        assert message in html
        assert "Nothing was saved" in html
        assert 'aria-invalid="true"' in html
        assert not InsightThresholds.objects.exists()
        assert not AuditEntry.objects.filter(action="insight_thresholds.update").exists()

    def test_query_budget(self, shop, django_assert_max_num_queries) -> None:
        client = signed_in(shop.supervisor)
        with django_assert_max_num_queries(5):
            assert client.get(reverse(self.URL)).status_code == 200


def pickup_for(shop: Shop, email: str, quantity: int = 1) -> Pickup:
    with committed():
        order = order_record(
            identity=Identity(email=email, first_name="Ann", last_name="Lee"),
            channel=Channel.WEB,
            lines=[LineInput(sku="SCK", quantity=quantity)],
            fulfilment="pickup",
            pickup_store=shop.store,
        )
    return Pickup.objects.get(order=order)


class TestPickupCounter:
    def test_each_pickup_shows_its_customer_and_the_cross_sell(self, shop) -> None:
        shop.order(MAYA, [("JKT", 1)], days_ago=20)
        shop.order(MAYA, [("VST", 1)], days_ago=10)
        small = pickup_for(shop, MAYA, quantity=2)
        quiet_customer(shop, "first@example.com")
        first_time = pickup_for(shop, "first@example.com")

        response = signed_in(shop.associate).get(reverse("stores:pickups", args=[shop.store.code]))

        html = response.content.decode()
        row = html[
            html.index(f'id="pickup-{small.pk}"') : html.index(f'id="pickup-{first_time.pk}"')
        ]
        # Her average over three orders (120, 60, 20) is 66.67: this $20 basket is 46.67 below.
        assert "Cross-sell fits: $46.67 below usual" in row
        assert "This basket ($20.00) is $46.67 below her average order of $66.67" in row
        assert "Average order</dt><dd>$66.67" in row
        other = html[html.index(f'id="pickup-{first_time.pk}"') :]
        assert "insight-flag-cross_sell" not in other

    def test_each_row_shows_the_shared_counter_panel(self, shop) -> None:
        # The counter writes the compact panel of customers/_insights.html out itself (from
        # figures written in Python): it must read as that partial does, flags and all, with
        # the dates in the store's time zone.
        shop.store.time_zone = "Pacific/Auckland"
        shop.store.save()
        demanding_regular(shop)
        quiet_customer(shop, "first@example.com")
        pickups = [pickup_for(shop, MAYA), pickup_for(shop, "first@example.com")]

        response = signed_in(shop.associate).get(reverse("stores:pickups", args=[shop.store.code]))

        html = response.content.decode()
        assert {"high_maintenance", "cross_sell"} <= set(flag_badges(html))
        for pickup in pickups:
            panel = insight_panel_for(pickup.order.customer, basket_total=pickup.order.total)
            context = {"panel": panel, "variant": "counter"}
            with timezone.override(shop.store.time_zone):
                partial = squeezed(render_to_string("customers/_insights.html", context))
            row = squeezed(html[html.index(f'id="pickup-{pickup.pk}"') :])
            start = row.index('<div class="insight-compact"')
            assert row[start : start + len(partial)] == partial

    def test_the_row_keeps_its_panel_after_an_action(self, shop) -> None:
        shop.order(MAYA, [("JKT", 1)], days_ago=20)
        pickup = pickup_for(shop, MAYA)
        url = reverse("stores:pickup_action", args=[shop.store.code, pickup.pk, "prepare"])

        response = signed_in(shop.associate).post(url, headers={"HX-Request": "true"})

        assert "Cross-sell fits" in response.content.decode()

    @pytest.mark.parametrize("pickups", [2, 30])
    def test_query_budget(self, shop, pickups, django_assert_max_num_queries) -> None:
        for n in range(pickups):
            shop.order(f"c{n}@example.com", [("JKT", 1)], days_ago=5)
            pickup_for(shop, f"c{n}@example.com")
        client = signed_in(shop.associate)

        with django_assert_max_num_queries(10):
            response = client.get(reverse("stores:pickups", args=[shop.store.code]))

        # One page of the counter, each row with its panel.
        assert response.content.decode().count('class="insight-compact"') == min(pickups, 25)


class TestReturnsDesk:
    @pytest.mark.parametrize("orders", [1, 12])
    def test_the_customer_page_shows_her_insight_within_its_budget(
        self, shop, orders, django_assert_max_num_queries
    ) -> None:
        customer = demanding_regular(shop, orders=orders)
        client = signed_in(shop.associate)
        url = reverse("stores:returns_customer", args=[shop.store.code, customer.pk])

        with django_assert_max_num_queries(14):
            response = client.get(url)

        html = response.content.decode()
        assert "What we know about her" in html
        assert "insight-flag-high_maintenance" in html
        assert f"Orders</dt><dd>{orders}</dd>" in html


class TestKioskOrderForm:
    def url(self, shop: Shop) -> str:
        return reverse("stores:order_new", args=[shop.store.code])

    def test_checking_a_small_basket_suggests_more(self, shop) -> None:
        customer = shop.order(MAYA, [("JKT", 1)], days_ago=20).customer
        shop.order(MAYA, [("VST", 1)], days_ago=10)
        client = signed_in(shop.associate)
        data = {
            "customer": str(customer.pk),
            "sku_1": "sck",
            "qty_1": "3",
            "fulfilment": "ship",
            "action": "check",
        }

        html = client.post(self.url(shop), data).content.decode()

        # Average 90.00; three pairs of socks make 30.00.
        assert "This basket ($30.00) is $60.00 below her average order of $90.00" in html

    def test_the_panel_follows_the_basket_as_it_is_typed(
        self, shop, django_assert_max_num_queries
    ) -> None:
        customer = shop.order(MAYA, [("JKT", 1)], days_ago=20).customer
        shop.order(MAYA, [("VST", 1)], days_ago=10)
        client = signed_in(shop.associate)
        data = {"customer": str(customer.pk), "sku_1": "JKT", "qty_1": "1", "action": "basket"}

        with django_assert_max_num_queries(6):
            big = client.post(self.url(shop), data, headers={"HX-Request": "true"})
        small = client.post(self.url(shop), data | {"sku_1": "SCK"}, headers={"HX-Request": "true"})

        assert "Cross-sell" not in big.content.decode()
        assert "<html" not in small.content.decode()
        assert "Cross-sell fits: $80.00 below usual" in small.content.decode()

    @pytest.mark.parametrize("skus", [1, 3])
    def test_query_budget(self, shop, skus, django_assert_max_num_queries) -> None:
        customer = shop.order(MAYA, [("JKT", 1)]).customer
        client = signed_in(shop.associate)
        data = {"customer": str(customer.pk), "fulfilment": "ship", "action": "check"}
        for n, sku in enumerate(["JKT", "SCK", "VST"][:skus], start=1):
            data |= {f"sku_{n}": sku, f"qty_{n}": "1"}

        # Session, user, customer with insight, contact points, products, two per SKU, the
        # navigation's: the insight and its cross-sell add none.
        with django_assert_max_num_queries(9 + 2 * skus):
            assert client.post(self.url(shop), data).status_code == 200


class TestInquiryPage:
    @pytest.mark.parametrize("orders", [1, 12])
    def test_the_sidebar_shows_her_insight_at_no_extra_query(
        self, shop, orders, django_assert_max_num_queries
    ) -> None:
        demanding_regular(shop, orders=orders)
        inquiry = Inquiry.objects.filter(customer__contact_points__value=MAYA).first()
        assert inquiry is not None
        client = signed_in(shop.rep)

        # The workspace's own budget: her insight comes with her record.
        with django_assert_max_num_queries(16):
            response = client.get(reverse("tickets:inquiry", args=[inquiry.pk]))

        html = response.content.decode()
        assert "insight-flag-high_maintenance" in html
        assert "Contacts per order" in html


# The property: whatever happens to customers, in whatever order and grouping into transactions,
# the insight kept current after each commit equals a full recompute from the source tables.

EMAILS = ("ann@example.com", "bo@example.com")
SKUS = ("JKT", "SCK", "VST")
index = st.integers(min_value=0, max_value=40)
who = st.integers(min_value=0, max_value=1)
events = st.one_of(
    st.tuples(
        st.just("order"),
        who,
        st.sampled_from([Channel.WEB, Channel.STORE, Channel.KIOSK, Channel.PHONE]),
        st.sampled_from(SKUS),
        st.integers(1, 3),
        st.integers(0, 25),
    ),
    st.tuples(
        st.just("status"),
        index,
        st.sampled_from(
            [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED]
        ),
    ),
    st.tuples(
        st.just("return"), index, st.integers(1, 2), st.sampled_from(list(ReturnReason.values))
    ),
    st.tuples(st.just("return_online"), index),
    st.tuples(st.just("receive"), index),
    st.tuples(st.just("inquiry"), who),
    st.tuples(st.just("inquiry_status"), index, st.sampled_from(list(InquiryStatus.values))),
    st.tuples(st.just("rate"), index, st.integers(1, 5)),
    st.tuples(st.just("call"), who, st.booleans()),
    st.tuples(st.just("callback"), who),
    st.tuples(st.just("touch"), who, st.sampled_from(list(OfferType.values))),
    st.tuples(st.just("touch_event"), index, st.sampled_from(["opened", "clicked", "redeemed"])),
    st.tuples(st.just("visit"), who, st.sampled_from(list(VisitSource.values)), st.integers(0, 45)),
    st.tuples(st.just("comment"), who),
    st.tuples(st.just("pickup"), who),
    st.tuples(st.just("pickup_cancel"), index),
    st.tuples(st.just("merge")),
)
# Each inner list is one transaction.
histories = st.lists(st.lists(events, min_size=1, max_size=3), min_size=2, max_size=10)
BEGINNING = [
    ("order", Channel.WEB, "JKT", 1, 20),
    ("inquiry",),
    ("touch", OfferType.PERCENT_OFF),
    ("touch", OfferType.GIFT),
    ("pickup",),
]


@dataclass
class Story:
    shop: Shop
    orders: list[Order] = field(default_factory=list)
    inquiries: list[Inquiry] = field(default_factory=list)
    touches: list[Any] = field(default_factory=list)
    online_returns: list[Return] = field(default_factory=list)
    pickups: list[Pickup] = field(default_factory=list)

    def customer(self, n: int) -> Customer | None:
        # After a merge her e-mail leads to the survivor, as identity resolution would.
        return Customer.objects.filter(contact_points__value=EMAILS[n]).first()

    def pick(self, items: list[Any], n: int) -> Any:
        return items[n % len(items)] if items else None

    def apply(self, event: tuple[Any, ...]) -> None:
        handler: Callable[..., None] = getattr(self, f"on_{event[0]}")
        handler(*event[1:])

    def on_order(self, n: int, channel: str, sku: str, quantity: int, days: int) -> None:
        self.orders.append(
            order_record(
                identity=Identity(email=EMAILS[n]),
                channel=channel,
                store=self.shop.store if channel in (Channel.STORE, Channel.KIOSK) else None,
                lines=[LineInput(sku=sku, quantity=quantity)],
                placed_at=timezone.now() - timedelta(days=days),
            )
        )

    def on_status(self, n: int, to: str) -> None:
        if order := self.pick(self.orders, n):
            order_set_status(order=order, to=to, actor=None)

    def on_return(self, n: int, quantity: int, reason: str) -> None:
        if order := self.pick(self.orders, n):
            line = order.lines.first()
            return_create(
                order=order,
                lines=[(line, quantity, reason, "resellable")],
                store=self.shop.store,
                actor=self.shop.manager,
                override_reason="Goodwill",
            )

    def on_return_online(self, n: int) -> None:
        if order := self.pick(self.orders, n):
            self.online_returns.append(
                return_request_online(
                    order=order,
                    lines=[(order.lines.first(), 1, ReturnReason.DOES_NOT_FIT, "resellable")],
                )
            )

    def on_receive(self, n: int) -> None:
        if pending := self.pick(self.online_returns, n):
            return_receive(return_request=pending, store=self.shop.store, actor=self.shop.associate)

    def on_inquiry(self, n: int) -> None:
        self.inquiries.append(web_inquiry(email=EMAILS[n]))

    def on_inquiry_status(self, n: int, status: str) -> None:
        if inquiry := self.pick(self.inquiries, n):
            inquiry_set_status(inquiry=inquiry, status=status, actor=self.shop.rep)

    def on_rate(self, n: int, rating: int) -> None:
        if inquiry := self.pick(self.inquiries, n):
            inquiry_rate(inquiry=inquiry, rating=rating, actor=None)

    def on_call(self, n: int, resolved: bool) -> None:
        if customer := self.customer(n):
            self.inquiries.append(
                inquiry_log_call(
                    customer=customer,
                    subject="A call",
                    text="She called.",
                    resolved=resolved,
                    actor=self.shop.rep,
                )
            )

    def on_callback(self, n: int) -> None:
        if customer := self.customer(n):
            start, end = window()
            callback_request(
                customer=customer,
                phone="+1 415 555 0100",
                window_start=start,
                window_end=end,
                channel=Channel.PHONE,
                actor=self.shop.rep,
            )

    def on_touch(self, n: int, offer_type: str) -> None:
        if customer := self.customer(n):
            self.touches.append(
                touch_record(
                    customer=customer,
                    source="mailer",
                    external_id=f"t{len(self.touches)}",
                    offer_type=offer_type,
                    offer_value=Decimal("10"),
                    channel="email",
                ).obj
            )

    def on_touch_event(self, n: int, event: str) -> None:
        if touch := self.pick(self.touches, n):
            touch.refresh_from_db()
            theirs = [o for o in self.orders if o.customer_id == touch.customer_id]
            number = theirs[-1].number if event == "redeemed" and theirs else ""
            touch_event(touch=touch, event=event, order_number=number)

    def on_visit(self, n: int, source: str, days: int) -> None:
        if customer := self.customer(n):
            visit_record(
                customer=customer,
                source=source,
                occurred_at=timezone.now() - timedelta(days=days),
            )

    def on_comment(self, n: int) -> None:
        if customer := self.customer(n):
            comment_add(customer=customer, author=self.shop.manager, body="Talked to her.")

    def on_pickup(self, n: int) -> None:
        order = order_record(
            identity=Identity(email=EMAILS[n]),
            channel=Channel.WEB,
            lines=[LineInput(sku="SCK", quantity=1)],
            fulfilment="pickup",
            pickup_store=self.shop.store,
        )
        self.orders.append(order)
        self.pickups.append(Pickup.objects.get(order=order))

    def on_pickup_cancel(self, n: int) -> None:
        if pickup := self.pick(self.pickups, n):
            pickup_set_status(pickup=pickup, to=PickupStatus.CANCELLED, actor=self.shop.associate)

    def on_merge(self) -> None:
        first, second = self.customer(0), self.customer(1)
        if first and second and first.pk != second.pk:
            customer_merge(survivor=first, merged=second, actor=self.shop.supervisor)
            for order in self.orders:
                order.refresh_from_db()


def assert_current(history: Any) -> None:
    """Every live customer's stored insight is what a full recompute gives; merged ones have
    none."""
    for customer in Customer.objects.all():
        row = CustomerInsight.objects.filter(pk=customer.pk).first()
        if customer.merged_into_id:
            assert row is None
            continue
        assert row is not None, f"customer {customer.pk} has no insight"
        fresh = insights_compute([customer.pk], now=row.computed_at)[customer.pk]
        for column in CustomerInsight._meta.concrete_fields:
            assert getattr(row, column.attname) == getattr(fresh, column.attname), (
                column.name,
                history,
            )


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_the_insight_kept_current_equals_a_full_rebuild(shop: Shop, history) -> None:
    savepoint = transaction.savepoint_create()
    try:
        story = Story(shop=shop)
        # Something of each kind for each customer, so that every step has something to act on.
        for n in (0, 1):
            for event in BEGINNING:
                with committed():
                    story.apply((event[0], n, *event[1:]))
        for events_of_one_transaction in history:
            with committed(), transaction.atomic():
                for event in events_of_one_transaction:
                    try:
                        with transaction.atomic():
                            story.apply(event)
                    except ValidationError:
                        pass  # a refused step changes nothing, as in real life
            # After each commit, not only at the end: a missed refresh is not hidden by a later one.
            assert_current(history)
    finally:
        transaction.savepoint_rollback(savepoint)
