"""Customer insights: the figures of hand-built histories, each flag on and off at its threshold,
the refresh after commit (once per customer and transaction), merges, the rebuild command and the
routing condition that reads the derived high-maintenance flag."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from celery.signals import task_prerun
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import AuditEntry, Channel
from customers.engagement import touch_event, touch_record, visit_record
from customers.insights.figures import insights_compute
from customers.insights.flags import (
    at_risk,
    best_offer,
    cross_sell,
    high_maintenance,
    insight_flags,
    valuable,
)
from customers.insights.selectors import insight_panel, visits_last_30_days
from customers.insights.services import (
    insight_refresh,
    insight_thresholds_update,
    insights_rebuild,
)
from customers.models import (
    Customer,
    CustomerInsight,
    FirstTouch,
    InsightThresholds,
    OfferType,
    VisitSource,
)
from customers.services import (
    Identity,
    activities_record,
    activity_entry,
    activity_record,
    comment_add,
    customer_merge,
)
from customers.tasks import refresh_insights
from orders.models import OrderStatus
from orders.services import LineInput, order_record
from orders.services.status import order_set_status
from tests.customers.factories_insights import (
    Shop,
    build_shop,
    committed,
    refreshes,
    stored,
    window,
)
from tests.factories import QueueFactory, web_inquiry
from tickets.models import Inquiry, InquiryStatus, RoutingRule
from tickets.services.callbacks import callback_request
from tickets.services.customer_side import inquiry_rate
from tickets.services.inquiries import inquiry_set_status
from tickets.services.workspace import inquiry_log_call

pytestmark = pytest.mark.django_db

MAYA = "maya@example.com"


@pytest.fixture
def shop() -> Shop:
    return build_shop()


def maya() -> Customer:
    return Customer.objects.get(contact_points__value=MAYA)


def resolved_and_rated(email: str, rating: int, actor) -> None:
    with committed():
        inquiry = web_inquiry(email=email)
    with committed():
        inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=actor)
    with committed():
        inquiry_rate(inquiry=inquiry, rating=rating, actor=None)


@pytest.fixture
def history(shop: Shop) -> Customer:
    """Maya's two months: a first visit from a search, three orders eight days apart and a
    cancelled one, a jacket returned, three written inquiries (two rated), a logged call, a
    call-back request, three offers (one redeemed) and recent visits."""
    first = shop.order(MAYA, [("JKT", 1), ("SCK", 2)], channel=Channel.WEB, days_ago=20)
    shop.order(MAYA, [("VST", 1)], channel=Channel.STORE, days_ago=12)
    third = shop.order(MAYA, [("SCK", 3), ("JKT", 1)], channel=Channel.KIOSK, days_ago=4)
    cancelled = shop.order(MAYA, [("JKT", 1)], channel=Channel.WEB, days_ago=2)
    with committed():
        order_set_status(order=cancelled, to=OrderStatus.CANCELLED, actor=None)
    shop.give_back(first, "JKT", 1)
    customer = maya()
    resolved_and_rated(MAYA, 4, shop.rep)
    resolved_and_rated(MAYA, 2, shop.rep)
    with committed():
        web_inquiry(email=MAYA, subject="Still waiting")
    with committed():
        inquiry_log_call(
            customer=customer, subject="Sizes", text="Asked about sizes.", actor=shop.rep
        )
    start, end = window()
    with committed():
        callback_request(
            customer=customer,
            phone="+1 415 555 0100",
            window_start=start,
            window_end=end,
            channel=Channel.PHONE,
            actor=shop.rep,
        )
    now = timezone.now()
    with committed():
        redeemed = touch_record(
            customer=customer,
            source="mailer",
            external_id="t1",
            offer_type=OfferType.PERCENT_OFF,
            offer_value=Decimal("20"),
            channel="email",
            sent_at=now - timedelta(days=6),
        ).obj
        touch_record(
            customer=customer,
            source="mailer",
            external_id="t2",
            offer_type=OfferType.PERCENT_OFF,
            offer_value=Decimal("10"),
            channel="email",
            sent_at=now - timedelta(days=3),
        )
        opened = touch_record(
            customer=customer,
            source="mailer",
            external_id="t3",
            offer_type=OfferType.FREE_SHIPPING,
            channel="email",
            sent_at=now - timedelta(days=3),
        ).obj
    with committed():
        touch_event(touch=redeemed, event="redeemed", order_number=third.number)
    with committed():
        touch_event(touch=opened, event="opened")
    for days, source, campaign in [
        (60, VisitSource.SEARCH, "spring-sale"),
        (40, VisitSource.SOCIAL, ""),
        (3, VisitSource.EMAIL, "june-letter"),
        (1, VisitSource.SEARCH, ""),
        (1, VisitSource.SEARCH, ""),
    ]:
        with committed():
            visit_record(
                customer=customer,
                source=source,
                campaign=campaign,
                occurred_at=now - timedelta(days=days),
            )
    return customer


class TestFiguresOfAHandBuiltHistory:
    def test_orders_returns_and_lifetime_value(self, history: Customer) -> None:
        insight = stored(history)

        # Three orders (the cancelled one left out): 140 + 60 + 150.
        assert insight.order_count == 3
        assert insight.orders_total == Decimal("350.00")
        assert insight.average_order_total == Decimal("116.67")
        assert insight.order_interval_days == Decimal("8.0")
        assert insight.order_interval_variation == Decimal("0.000")
        # The jacket came back for its price: lifetime value net of it.
        assert insight.returned_total == Decimal("120.00")
        assert insight.lifetime_value == Decimal("230.00")
        assert (insight.items_bought, insight.items_returned) == (8, 1)
        assert (insight.value_bought, insight.value_returned) == (
            Decimal("350.00"),
            Decimal("120.00"),
        )
        assert insight.returns_rate_items == Decimal("12.5")
        assert insight.returns_rate_value == Decimal("34.3")
        assert insight.favourite_categories == [
            {"name": "Socks", "quantity": 5},
            {"name": "Outerwear", "quantity": 3},
        ]

    def test_service_contacts_and_satisfaction(self, history: Customer) -> None:
        insight = stored(history)

        assert (insight.inquiry_count, insight.call_count, insight.callback_count) == (3, 1, 1)
        assert insight.contacts_per_order == Decimal("1.67")
        # The unanswered web inquiry, the call left open and the call-back request.
        assert insight.open_inquiries == 3
        assert (insight.average_rating, insight.rating_count) == (Decimal("3.00"), 2)
        assert insight.last_contact_at is not None
        assert timezone.now() - insight.last_contact_at < timedelta(minutes=5)

    def test_first_touch_channels_offers_and_visits(self, history: Customer) -> None:
        insight = stored(history)

        assert insight.first_touch_kind == FirstTouch.VISIT
        assert (insight.first_touch_source, insight.first_touch_campaign) == (
            VisitSource.SEARCH,
            "spring-sale",
        )
        assert insight.channels == [
            Channel.WEB,
            Channel.STORE,
            Channel.PHONE,
            Channel.KIOSK,
            Channel.WEB_FORM,
            Channel.CALLBACK,
        ]
        assert insight.offers == {
            OfferType.PERCENT_OFF: {"received": 2, "redeemed": 1},
            OfferType.FREE_SHIPPING: {"received": 1, "redeemed": 0},
        }
        visits = visits_last_30_days(insight, now=timezone.now())
        assert visits.total == 3
        assert visits.sources == [("Search", 2), ("E-mail", 1)]

    def test_visit_days_age_out_when_read_later_without_a_write(self, history: Customer) -> None:
        insight = stored(history)

        # Read 28 days on: only the two visits of yesterday are still inside the window.
        later = visits_last_30_days(insight, now=timezone.now() + timedelta(days=28))
        assert later.total == 2
        assert later.sources == [("Search", 2)]
        assert visits_last_30_days(insight, now=timezone.now() + timedelta(days=31)).total == 0

    def test_a_first_order_is_the_first_touch_not_the_contact_it_created(self, shop) -> None:
        shop.order("ben@example.com", [("SCK", 1)], channel=Channel.STORE)

        insight = CustomerInsight.objects.get(customer__contact_points__value="ben@example.com")
        assert (insight.first_touch_kind, insight.first_touch_channel) == (
            FirstTouch.ORDER,
            Channel.STORE,
        )

    def test_a_customer_with_no_orders_has_empty_figures(self, shop) -> None:
        with committed():
            web_inquiry(email="new@example.com")
        insight = CustomerInsight.objects.get(customer__contact_points__value="new@example.com")

        assert insight.order_count == 0
        assert insight.average_order_total is None
        assert insight.contacts_per_order is None
        assert insight.returns_rate_items is None
        assert insight.lifetime_value == Decimal("0")
        assert insight.open_inquiries == 1
        assert insight_flags(insight, InsightThresholds(), now=timezone.now()) == []

    def test_the_refresh_reads_the_same_number_of_queries_whatever_the_history(self, shop) -> None:
        counts = []
        for email, orders in (("few@example.com", 2), ("many@example.com", 25)):
            for n in range(orders):
                shop.order(email, [("SCK", 1)], days_ago=orders - n)
            customer = Customer.objects.get(contact_points__value=email)
            with CaptureQueriesContext(connection) as queries:
                insight_refresh(customer_id=customer.pk)
            counts.append(len(queries))
        assert counts[0] == counts[1]


def insight(**figures) -> CustomerInsight:
    defaults = {
        "customer_since": timezone.now() - timedelta(days=400),
        "computed_at": timezone.now(),
        "order_count": 4,
        "items_bought": 10,
        "items_returned": 3,
        "inquiry_count": 4,
        "call_count": 0,
        "callback_count": 0,
        "lifetime_value": Decimal("500.00"),
        "average_order_total": Decimal("80.00"),
        "offers": {},
    }
    return CustomerInsight(**(defaults | figures))


THRESHOLDS = InsightThresholds(
    returns_rate_percent=Decimal("30"),
    contacts_per_order=Decimal("1.00"),
    valuable_lifetime_value=Decimal("1000.00"),
    at_risk_min_orders=3,
    at_risk_variation_percent=50,
    at_risk_silence_factor=Decimal("2.0"),
    cross_sell_min_orders=2,
    offer_min_sample=3,
)


class TestFlagsAtTheirThresholds:
    def test_high_maintenance_needs_both_rates_above(self) -> None:
        # 3 of 10 items (30%), 4 contacts over 4 orders (1.00): at both thresholds, not above.
        assert high_maintenance(insight(), THRESHOLDS) is None
        # One more item back: 40% of items, still one contact per order.
        assert high_maintenance(insight(items_returned=4), THRESHOLDS) is None
        # One more contact too: both above.
        flag = high_maintenance(insight(items_returned=4, call_count=1), THRESHOLDS)
        assert flag is not None
        assert flag.reason == (
            "Returned 40% of the items she bought (threshold 30%) and contacted service 1.25 "
            "times per order (threshold 1)."
        )
        # Contacts alone are not enough.
        assert high_maintenance(insight(call_count=9), THRESHOLDS) is None

    def test_valuable_above_the_lifetime_value(self) -> None:
        assert valuable(insight(lifetime_value=Decimal("1000.00")), THRESHOLDS) is None
        flag = valuable(insight(lifetime_value=Decimal("1000.01")), THRESHOLDS)
        assert flag is not None
        assert flag.reason == "Lifetime value $1,000.01 net of returns, above $1,000.00."

    def test_at_risk_after_a_silence_longer_than_the_factor_times_her_gap(self) -> None:
        now = timezone.now()
        regular = {
            "order_count": 3,
            "order_interval_days": Decimal("10.0"),
            "order_interval_variation": Decimal("0.200"),
        }
        at_twice = insight(**regular, last_order_at=now - timedelta(days=20))
        assert at_risk(at_twice, THRESHOLDS, now=now) is None

        past_twice = insight(**regular, last_order_at=now - timedelta(days=20, hours=1))
        flag = at_risk(past_twice, THRESHOLDS, now=now)
        assert flag is not None
        assert flag.reason == (
            "Ordered every 10 days on average (3 orders), but nothing for 20 days: more than "
            "2× her usual gap."
        )
        # Too few orders, or too irregular, to say she is late.
        quiet = now - timedelta(days=60)
        assert (
            at_risk(
                insight(**regular | {"order_count": 2}, last_order_at=quiet), THRESHOLDS, now=now
            )
            is None
        )
        assert (
            at_risk(
                insight(
                    **regular | {"order_interval_variation": Decimal("0.510")}, last_order_at=quiet
                ),
                THRESHOLDS,
                now=now,
            )
            is None
        )
        at_the_limit = regular | {"order_interval_variation": Decimal("0.500")}
        assert at_risk(insight(**at_the_limit, last_order_at=quiet), THRESHOLDS, now=now)

    def test_cross_sell_when_the_basket_is_below_her_average(self) -> None:
        usual = insight(average_order_total=Decimal("80.00"), order_count=2)
        assert cross_sell(usual, THRESHOLDS, basket_total=Decimal("80.00")) is None
        assert cross_sell(usual, THRESHOLDS, basket_total=None) is None
        flag = cross_sell(usual, THRESHOLDS, basket_total=Decimal("55.50"))
        assert flag is not None
        assert flag.label == "Cross-sell fits: $24.50 below usual"
        assert flag.reason == (
            "This basket ($55.50) is $24.50 below her average order of $80.00 over 2 orders."
        )
        # One order is not yet a usual total.
        first = insight(average_order_total=Decimal("80.00"), order_count=1)
        assert cross_sell(first, THRESHOLDS, basket_total=Decimal("10.00")) is None

    def test_the_offer_most_likely_to_work_needs_a_sample(self) -> None:
        two = insight(offers={"gift": {"received": 2, "redeemed": 2}})
        assert best_offer(two, THRESHOLDS) is None

        mixed = insight(
            offers={
                "gift": {"received": 2, "redeemed": 2},
                "percent_off": {"received": 4, "redeemed": 3},
                "free_shipping": {"received": 3, "redeemed": 1},
            }
        )
        flag = best_offer(mixed, THRESHOLDS)
        assert flag is not None
        assert flag.label == "Best offer: percent off"
        assert flag.reason == "Redeemed 3 of 4 percent off offers (75%); free shipping 1 of 3."
        # Received often enough but never redeemed: nothing is likely to work.
        never = insight(offers={"percent_off": {"received": 5, "redeemed": 0}})
        assert best_offer(never, THRESHOLDS) is None

    def test_a_threshold_change_shows_at_once(self, shop) -> None:
        shop.order(MAYA, [("JKT", 9)])
        row = stored(maya())
        assert [f.key for f in insight_panel(row, InsightThresholds()).flags] == ["valuable"]

        insight_thresholds_update(
            actor=shop.supervisor, values={"valuable_lifetime_value": Decimal("5000")}
        )

        current = InsightThresholds.objects.get()
        assert insight_panel(row, current).flags == []


class TestRefreshAfterCommit:
    def test_once_per_customer_and_transaction(self, shop) -> None:
        customer = shop.order(MAYA, [("SCK", 1)]).customer
        other = shop.order("bo@example.com", [("SCK", 1)]).customer

        with refreshes() as ran, committed():
            for n in range(3):
                activity_record(
                    customer=customer, kind="comment_added", channel="phone", summary=f"{n}"
                )
            activity_record(customer=other, kind="comment_added", channel="phone", summary="x")

        assert sorted(ran) == sorted([customer.pk, other.pk])

    def test_a_rolled_back_savepoint_does_not_swallow_the_refresh(self, shop) -> None:
        customer = shop.order(MAYA, [("SCK", 1)]).customer

        with refreshes() as ran, committed():
            try:
                with transaction.atomic():
                    activity_record(
                        customer=customer, kind="comment_added", channel="phone", summary="a"
                    )
                    raise ValidationError("changed her mind")
            except ValidationError:
                pass
            activity_record(customer=customer, kind="comment_added", channel="phone", summary="b")

        assert ran == [customer.pk]

    def test_nothing_runs_before_the_commit_and_a_rollback_runs_nothing(self, shop) -> None:
        with refreshes() as ran, committed() as callbacks:
            try:
                with transaction.atomic():
                    order_record(
                        identity=Identity(email=MAYA),
                        channel=Channel.WEB,
                        lines=[LineInput(sku="SCK", quantity=1)],
                    )
                    assert ran == []
                    raise ValidationError("rolled back")
            except ValidationError:
                pass
        assert ran == [] and callbacks == []
        assert not CustomerInsight.objects.exists()

    def test_the_task_is_a_full_recompute_so_running_it_again_changes_nothing(
        self, history: Customer
    ) -> None:
        before = stored(history)

        insight_refresh(customer_id=history.pk)
        insight_refresh(customer_id=history.pk)

        after = stored(history)
        fields = [f.name for f in CustomerInsight._meta.concrete_fields if f.name != "computed_at"]
        assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]

    def test_many_events_recorded_at_once_are_one_task_for_their_customers(self, shop) -> None:
        maya, bo, cy = (
            shop.order(email, [("SCK", 1)]).customer
            for email in (MAYA, "bo@example.com", "cy@example.com")
        )
        ran: list[tuple[str, list[int]]] = []

        def note(sender: Any = None, args: Any = (), **kwargs: Any) -> None:
            ran.append((sender.name, args[0] if isinstance(args[0], list) else [args[0]]))

        task_prerun.connect(note, weak=False)
        try:
            with committed():
                activity_record(customer=maya, kind="comment_added", channel="phone", summary="a")
                activities_record(
                    [
                        activity_entry(
                            customer=c, kind="comment_added", channel="phone", summary="b"
                        )
                        for c in (maya, bo, cy, cy)
                    ]
                )
                activity_record(customer=cy, kind="comment_added", channel="phone", summary="c")
        finally:
            task_prerun.disconnect(note)

        # Maya's refresh was enqueued already; a later event of Cy's enqueues nothing more.
        assert ran == [
            ("customers.refresh_insight", [maya.pk]),
            ("customers.refresh_insights", [bo.pk, cy.pk]),
        ]

    def test_the_batch_task_is_a_full_recompute_so_running_it_again_changes_nothing(
        self, history: Customer
    ) -> None:
        before = stored(history)

        assert refresh_insights([history.pk]) == 1
        assert refresh_insights([history.pk, 123456]) == 1

        after = stored(history)
        fields = [f.name for f in CustomerInsight._meta.concrete_fields if f.name != "computed_at"]
        assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]

    def test_a_comment_moves_the_last_contact(self, shop) -> None:
        customer = shop.order(MAYA, [("SCK", 1)]).customer
        assert stored(customer).last_contact_at is None

        with committed():
            comment = comment_add(customer=customer, author=shop.manager, body="Asked for a size.")

        assert stored(customer).last_contact_at == comment.created_at


class TestMerge:
    def test_the_survivor_gets_the_whole_history_and_the_merged_record_none(self, shop) -> None:
        shop.order(MAYA, [("JKT", 1)], days_ago=10)
        shop.order("maya.j@work.example", [("SCK", 2)], days_ago=3)
        survivor, merged = maya(), Customer.objects.get(contact_points__value="maya.j@work.example")
        with committed():
            web_inquiry(email="maya.j@work.example")

        with committed():
            customer_merge(survivor=survivor, merged=merged, actor=shop.supervisor)

        insight = stored(survivor)
        assert (insight.order_count, insight.orders_total, insight.inquiry_count) == (
            2,
            Decimal("140.00"),
            1,
        )
        assert insight.order_interval_days == Decimal("7.0")
        assert not CustomerInsight.objects.filter(customer=merged).exists()
        # A refresh of the merged id, late from before the merge, leaves nothing behind.
        assert insight_refresh(customer_id=merged.pk) is None
        assert not CustomerInsight.objects.filter(customer=merged).exists()


class TestRebuild:
    def test_the_command_rebuilds_everyone_in_batches_as_each_refresh_would(self, shop) -> None:
        for n in range(5):
            shop.order(f"c{n}@example.com", [("SCK", n + 1)], days_ago=n)
        expected = {row.pk: row.orders_total for row in CustomerInsight.objects.all()}
        CustomerInsight.objects.all().delete()
        stale = Customer.objects.get(contact_points__value="c0@example.com")
        CustomerInsight.objects.create(
            customer=stale, customer_since=stale.customer_since, computed_at=timezone.now()
        )
        out = StringIO()

        call_command("rebuild_insights", batch_size=2, stdout=out)

        assert {row.pk: row.orders_total for row in CustomerInsight.objects.all()} == expected
        text = out.getvalue()
        assert "2 of 5 customers" in text and "4 of 5 customers" in text and "5 of 5" in text
        assert "Rebuilt the insights of 5 customers" in text

    def test_a_batch_costs_the_same_queries_whatever_its_size(self, shop) -> None:
        counts = []
        for customers in (3, 12):
            for n in range(Customer.objects.count(), customers):
                shop.order(f"c{n}@example.com", [("SCK", 1)], days_ago=n)
            with CaptureQueriesContext(connection) as queries:
                assert insights_rebuild(batch_size=100) == customers
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_compute_matches_what_the_refresh_stored(self, history: Customer) -> None:
        row = stored(history)
        fresh = insights_compute([history.pk], now=row.computed_at)[history.pk]
        for field in CustomerInsight._meta.concrete_fields:
            assert getattr(fresh, field.attname) == getattr(row, field.attname), field.name


class TestThresholdService:
    def test_only_supervisors_and_admins_set_them_and_it_is_audited(self, shop) -> None:
        with pytest.raises(ValidationError):
            insight_thresholds_update(actor=shop.rep, values={"at_risk_min_orders": 5})
        assert not InsightThresholds.objects.exists()

        insight_thresholds_update(actor=shop.supervisor, values={"at_risk_min_orders": 5})

        assert InsightThresholds.objects.get().at_risk_min_orders == 5
        entry = AuditEntry.objects.get(action="insight_thresholds.update")
        assert entry.data == {"changed": {"at_risk_min_orders": {"from": "3", "to": "5"}}}

    def test_an_invalid_value_changes_nothing(self, shop) -> None:
        insight_thresholds_update(
            actor=shop.supervisor, values={"returns_rate_percent": Decimal("40")}
        )

        with pytest.raises(ValidationError) as raised:
            insight_thresholds_update(
                actor=shop.supervisor,
                values={"returns_rate_percent": Decimal("140"), "at_risk_min_orders": 7},
            )

        assert "returns_rate_percent" in raised.value.message_dict
        thresholds = InsightThresholds.objects.get()
        assert (thresholds.returns_rate_percent, thresholds.at_risk_min_orders) == (
            Decimal("40.0"),
            3,
        )


def demanding(shop: Shop) -> None:
    """Maya returns three of the four pairs of socks she bought and writes in twice."""
    order = shop.order(MAYA, [("SCK", 4)], days_ago=3)
    shop.give_back(order, "SCK", 3)
    for _ in range(2):
        with committed():
            web_inquiry(email=MAYA)


def routed_inquiry() -> Inquiry:
    """A new inquiry of Maya's, routed after commit (after her insight is refreshed)."""
    with committed():
        inquiry = web_inquiry(email=MAYA)
    return Inquiry.objects.select_related("routed_by_rule").get(pk=inquiry.pk)


@pytest.fixture
def careful() -> RoutingRule:
    return RoutingRule.objects.create(
        name="Careful", high_maintenance=True, queue=QueueFactory.create()
    )


class TestRouting:
    def test_the_derived_flag_routes_like_the_staff_flag(self, shop, careful) -> None:
        demanding(shop)

        routed = routed_inquiry()

        assert routed.routed_by_rule == careful
        assert routed.routing_reason == (
            "Rule 'Careful': customer is high-maintenance (Returned 75% of the items she bought "
            "(threshold 30%) and contacted service 3 times per order (threshold 1))"
        )

    def test_raising_the_threshold_stops_it(self, shop, careful) -> None:
        demanding(shop)
        insight_thresholds_update(
            actor=shop.supervisor, values={"returns_rate_percent": Decimal("80")}
        )

        assert routed_inquiry().routed_by_rule is None

    def test_staff_can_still_flag_her_by_hand(self, shop, careful) -> None:
        customer = shop.order(MAYA, [("SCK", 1)]).customer
        Customer.objects.filter(pk=customer.pk).update(high_maintenance=True)

        routed = routed_inquiry()

        assert routed.routed_by_rule == careful
        assert routed.routing_reason == (
            "Rule 'Careful': customer is high-maintenance (flagged by staff)"
        )
