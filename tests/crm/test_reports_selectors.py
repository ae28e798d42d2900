"""Each report against a small data set built by hand, whose answers are worked out here from the
rows (not by running the report's SQL a second way)."""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest

from crm.models import BacklogCount, BacklogSnapshot, Channel
from crm.reports.base import Chart, ReportScope
from crm.reports.selectors import service, stores
from orders.models import PickupStatus, ReturnReason
from stores.models import Store
from tests.crm import factories_reports as rows
from tests.factories import CustomerFactory, QueueFactory, StoreFactory
from tickets.models import CallbackStatus, Queue

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2026, 1, 1), date(2026, 1, 31)
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)  # a moment inside the range


def scope(*, store_ids: tuple[int, ...] | None = None, now: datetime = NOW) -> ReportScope:
    return ReportScope(
        first_day=FIRST,
        last_day=LAST,
        start=datetime.combine(FIRST, time.min, tzinfo=UTC),
        end=datetime.combine(LAST + timedelta(days=1), time.min, tzinfo=UTC),
        now=now,
        store_ids=store_ids,
    )


def by_key(charts: list[Chart], key: str) -> Chart:
    return next(chart for chart in charts if chart.key == key)


def table(chart: Chart) -> dict[str, list[object]]:
    """label -> the series' values at that label."""
    return {
        label: [series.values[i] for series in chart.series] for i, label in enumerate(chart.labels)
    }


class TestInquiryVolume:
    def test_counts_by_channel_and_queue_leaving_out_automated_merged_and_outside(self) -> None:
        alpha = QueueFactory.create(name="Alpha")
        bravo = QueueFactory.create(name="Bravo")
        for channel, queue in [
            (Channel.WEB_FORM, alpha),
            (Channel.WEB_FORM, alpha),
            (Channel.WEB_FORM, bravo),
            (Channel.EMAIL, alpha),
            (Channel.EMAIL, alpha),
            (Channel.PHONE, None),
        ]:
            rows.inquiry(created_at=T0, channel=channel, queue=queue)
        kept = rows.inquiry(created_at=T0, channel=Channel.EMAIL, queue=alpha)
        rows.inquiry(created_at=T0, channel=Channel.EMAIL, queue=alpha, merged_into=kept)
        rows.inquiry(created_at=T0, channel=Channel.EMAIL, automated_reason="Auto-Submitted")
        rows.inquiry(created_at=END, channel=Channel.EMAIL, queue=alpha)  # the day after
        rows.inquiry(created_at=START - timedelta(seconds=1), channel=Channel.EMAIL)

        charts = service.inquiry_volume(scope())

        channels = by_key(charts, "inquiries-by-channel")
        # Channel order of the choices: phone, e-mail, web form. The kept one is an e-mail too.
        assert table(channels) == {"Phone": [1], "E-mail": [3], "Web form": [3]}
        assert channels.headline == "7"
        queues = by_key(charts, "inquiries-by-queue")
        assert table(queues) == {"Alpha": [5], "Bravo": [1], "Not routed yet": [1]}
        assert queues.labels == ["Alpha", "Bravo", "Not routed yet"]
        assert (queues.headline, queues.headline_label) == ("71%", "went to Alpha")  # 5 of 7

    def test_a_store_scope_counts_only_its_stores_inquiries(self) -> None:
        mine, other = StoreFactory.create(), StoreFactory.create()
        rows.inquiry(created_at=T0, channel=Channel.STORE, store=mine)
        rows.inquiry(created_at=T0, channel=Channel.STORE, store=other)
        rows.inquiry(created_at=T0, channel=Channel.EMAIL)  # the call center's

        channels = by_key(
            service.inquiry_volume(scope(store_ids=(mine.pk,))), "inquiries-by-channel"
        )

        assert table(channels) == {"Store": [1]}


class TestFirstResponse:
    def test_buckets_and_share_within_target(self, settings) -> None:
        settings.CRM_SLA_FIRST_RESPONSE_MINUTES = 6 * 60
        hour = timedelta(hours=1)
        late = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)  # arrived 3 h before NOW
        # (arrived, answered after, due after): within target when answered by the due time.
        for created, answered, due in [
            (T0, 0.5 * hour, 6 * hour),  # under 1 h, within
            (T0, 1 * hour, 1 * hour),  # exactly 1 h: the 1-2 h bucket, within (due time included)
            (T0, 3 * hour, 2 * hour),  # 2-4 h, past a 2 h target
            (T0, 5 * hour, None),  # 4-6 h, within the default 6 h target (never routed)
            (T0, 50 * hour, 6 * hour),  # over 2 days, past
            (late, None, 6 * hour),  # unanswered, due at 15:00 after NOW: still within
            (T0, None, 6 * hour),  # unanswered and overdue: past
        ]:
            rows.inquiry(
                created_at=created,
                first_responded_at=created + answered if answered is not None else None,
                first_response_due_at=created + due if due is not None else None,
            )

        (chart,) = service.first_response(scope())

        assert [s.label for s in chart.series] == ["Within target", "Past target"]
        assert table(chart) == {
            "Under 1 h": [1, 0],
            "1–2 h": [1, 0],
            "2–4 h": [0, 1],
            "4–6 h": [1, 0],
            "6–12 h": [0, 0],
            "12–24 h": [0, 0],
            "1–2 days": [0, 0],
            "Over 2 days": [0, 1],
            "Not answered yet": [1, 1],
        }
        # Answered within target: 3; decided: 5 answered + 1 overdue = 6.
        assert chart.headline == "50%"

    def test_nothing_arrived_is_an_empty_chart(self) -> None:
        (chart,) = service.first_response(scope())

        assert chart.is_empty
        assert chart.headline == "–"


class TestAcknowledgement:
    def test_buckets_of_the_time_the_acknowledgement_went_out(self) -> None:
        for after in [
            timedelta(seconds=30),
            timedelta(seconds=60),  # one minute exactly is within one minute
            timedelta(seconds=61),
            timedelta(minutes=10),
            timedelta(hours=2),
            None,  # written, not sent yet
        ]:
            rows.acknowledged(rows.inquiry(created_at=T0, channel=Channel.EMAIL), sent_after=after)
        rows.inquiry(created_at=T0, channel=Channel.PHONE)  # opened by staff: none due

        (chart,) = service.acknowledgement(scope())

        assert table(chart) == {
            "Within 1 min": [2],
            "1–5 min": [1],
            "5–60 min": [1],
            "Over 1 hour": [1],
            "Not sent yet": [1],
        }
        assert chart.headline == "33%"  # 2 of 6


class TestBacklog:
    def test_open_per_queue_per_day_with_a_gap_for_a_missing_snapshot(self) -> None:
        alpha, bravo = QueueFactory.create(name="Alpha"), QueueFactory.create(name="Bravo")
        mine, other = StoreFactory.create(), StoreFactory.create()
        day1, day3 = date(2026, 1, 5), date(2026, 1, 7)
        snapshots: list[tuple[date, list[tuple[Queue, Store | None, int]]]] = [
            (day1, [(alpha, None, 3), (alpha, mine, 2), (bravo, other, 1)]),
            (day3, [(alpha, None, 4)]),
            (date(2025, 12, 31), [(alpha, None, 50)]),  # before the range
        ]
        for day, counts in snapshots:
            snapshot = BacklogSnapshot.objects.create(day=day, taken_at=T0)
            for queue, store, count in counts:
                BacklogCount.objects.create(
                    snapshot=snapshot,
                    day=day,
                    queue=queue,
                    store=store,
                    open=count,
                    unanswered=0,
                    overdue=0,
                )
        narrow = ReportScope(
            first_day=day1,
            last_day=day3,
            start=datetime.combine(day1, time.min, tzinfo=UTC),
            end=datetime.combine(day3, time.max, tzinfo=UTC),
            now=NOW,
        )

        (chart,) = service.backlog(narrow)

        assert chart.labels == ["2026-01-05", "2026-01-06", "2026-01-07"]
        assert table(chart) == {
            "2026-01-05": [5, 1],
            "2026-01-06": [None, None],
            "2026-01-07": [4, 0],
        }
        assert (chart.headline, chart.headline_label) == ("4", "open on Jan 7")

        (mine_only,) = service.backlog(dataclasses.replace(narrow, store_ids=(mine.pk,)))
        assert [s.label for s in mine_only.series] == ["Alpha"]
        assert mine_only.series[0].values == [2, None, 0]


class TestResolution:
    def test_median_and_90th_percentile_per_queue_and_overall(self) -> None:
        alpha, bravo = QueueFactory.create(name="Alpha"), QueueFactory.create(name="Bravo")
        for queue, hours in [
            (alpha, 1),
            (alpha, 2),
            (alpha, 3),
            (alpha, 4),
            (alpha, 10),
            (bravo, 2),
        ]:
            rows.inquiry(created_at=T0, queue=queue, resolved_at=T0 + timedelta(hours=hours))
        rows.inquiry(
            created_at=START - timedelta(days=3),
            queue=alpha,
            resolved_at=START - timedelta(hours=1),
        )
        rows.inquiry(created_at=T0, queue=alpha)  # not resolved

        (chart,) = service.resolution(scope())

        # Alpha 1, 2, 3, 4, 10 h: median 3; 90th percentile 4 + 0.6 * (10 - 4) = 7.6 (interpolated).
        assert table(chart) == {"Alpha": [3.0, 7.6], "Bravo": [2.0, 2.0]}
        # All: 1, 2, 2, 3, 4, 10 h: median 2.5; 90th: 4 + 0.5 * 6 = 7.
        assert chart.headline == "2.5 h"
        assert chart.note == "Nine in ten were resolved within 7.0 h."

    def test_inquiries_resolved_at_once_still_draw_a_chart(self) -> None:
        rows.inquiry(created_at=T0, queue=QueueFactory.create(name="Alpha"), resolved_at=T0)

        (chart,) = service.resolution(scope())

        assert not chart.is_empty
        assert table(chart) == {"Alpha": [0.0, 0.0]}


class TestSatisfaction:
    def test_distribution_and_average(self) -> None:
        for rating in [5, 5, 4, 1]:
            rows.inquiry(created_at=T0, rating=rating, rated_at=T0 + timedelta(days=1))
        rows.inquiry(created_at=T0, rating=3, rated_at=END + timedelta(hours=1))
        rows.inquiry(created_at=T0)

        (chart,) = service.satisfaction(scope())

        assert table(chart) == {
            "1 star": [1],
            "2 stars": [0],
            "3 stars": [0],
            "4 stars": [1],
            "5 stars": [2],
        }
        assert chart.headline == "3.8 / 5"  # 15 / 4 = 3.75
        assert chart.headline_label == "average of 4 ratings"


class TestCallbacks:
    def test_first_call_against_the_requested_window(self) -> None:
        window = datetime(2026, 1, 12, 14, 0, tzinfo=UTC)  # 14:00 to 16:00
        rows.callback(window_start=window, calls=(window + timedelta(minutes=30),))
        rows.callback(
            window_start=window,
            # The first call counts: within the window, though a retry came the next day.
            calls=(window + timedelta(hours=2), window + timedelta(days=1)),
        )
        rows.callback(window_start=window, calls=(window + timedelta(hours=2, seconds=1),))
        rows.callback(window_start=window, calls=(window - timedelta(minutes=5),))
        rows.callback(window_start=window)  # window over, nobody called
        rows.callback(window_start=NOW - timedelta(hours=1))  # window open until NOW + 1 h
        rows.callback(window_start=window, status=CallbackStatus.CANCELLED)
        rows.callback(window_start=END, calls=(END,))  # outside the range

        (chart,) = service.callbacks(scope())

        assert table(chart) == {
            "On time": [2],
            "Late": [1],
            "Too early": [1],
            "Not called": [1],
            "Window not over": [1],
        }
        assert chart.headline == "40%"  # 2 of the 5 whose window is over


class TestPickups:
    def test_ready_collected_expired_per_store_and_time_to_collect(self) -> None:
        alpha = StoreFactory.create(name="Alpha store")
        bravo = StoreFactory.create(name="Bravo store")
        day = timedelta(days=1)
        rows.pickup(store=alpha, status=PickupStatus.READY, ready_at=T0)
        rows.pickup(
            store=alpha,
            status=PickupStatus.COLLECTED,
            ready_at=T0,
            collected_at=T0 + timedelta(hours=2),
        )
        # Ready before the range, collected in it: counted as collected only.
        rows.pickup(
            store=alpha,
            status=PickupStatus.COLLECTED,
            ready_at=START - timedelta(hours=3),
            collected_at=START + timedelta(hours=3),
        )
        rows.pickup(
            store=alpha,
            status=PickupStatus.EXPIRED,
            ready_at=T0,
            hold_until=T0 + 7 * day,
        )
        rows.pickup(store=bravo, status=PickupStatus.READY, ready_at=T0)
        rows.pickup(
            store=bravo, status=PickupStatus.PLACED, hold_until=None, ready_at=START - 9 * day
        )

        charts = stores.pickups(scope())

        counts = by_key(charts, "pickups")
        assert [s.label for s in counts.series] == ["Ready", "Collected", "Expired"]
        assert table(counts) == {"Alpha store": [3, 2, 1], "Bravo store": [1, 0, 0]}
        assert counts.headline == "67%"  # 2 collected, 1 expired
        collect = by_key(charts, "time-to-collect")
        assert table(collect) == {"Alpha store": [4.0]}  # median of 2 h and 6 h
        assert collect.headline == "4.0 h"

    def test_a_store_scope_leaves_other_stores_out(self) -> None:
        mine, other = StoreFactory.create(name="Mine"), StoreFactory.create(name="Other")
        rows.pickup(store=mine, status=PickupStatus.READY, ready_at=T0)
        rows.pickup(store=other, status=PickupStatus.COLLECTED, ready_at=T0, collected_at=T0)

        charts = stores.pickups(scope(store_ids=(mine.pk,)))

        assert table(by_key(charts, "pickups")) == {"Mine": [1, 0, 0]}
        assert by_key(charts, "time-to-collect").is_empty


class TestReturns:
    def test_items_by_channel_of_purchase_store_and_reason(self) -> None:
        north, south = StoreFactory.create(name="North"), StoreFactory.create(name="South")
        customer = CustomerFactory.create()
        web = rows.order(
            customer=customer, channel=Channel.WEB, placed_at=T0 - timedelta(days=20), lines=2
        )
        till = rows.order(customer=customer, channel=Channel.STORE, placed_at=T0, store=south)
        rows.returned(
            bought=web,
            store=north,
            completed_at=T0,
            lines=[(ReturnReason.DAMAGED, 2), (ReturnReason.DOES_NOT_FIT, 1)],
        )
        rows.returned(bought=till, store=south, completed_at=T0, lines=[(ReturnReason.DAMAGED, 1)])
        rows.returned(bought=till, store=south, completed_at=END, lines=[(ReturnReason.OTHER, 1)])
        rows.returned(
            bought=web,
            store=None,
            completed_at=None,
            channel=Channel.WEB,
            lines=[(ReturnReason.CHANGED_MIND, 1)],
        )

        charts = stores.returns(scope())

        by_channel = by_key(charts, "returns-by-channel")
        assert table(by_channel) == {"Web shop": [3], "Store": [1]}
        assert (by_channel.headline, by_channel.headline_label) == (
            "4",
            "items returned, 75% bought online",
        )
        assert table(by_key(charts, "returns-by-store")) == {"North": [3], "South": [1]}
        by_reason = by_key(charts, "returns-by-reason")
        assert table(by_reason) == {"Damaged or faulty": [3], "Doesn't fit": [1]}
        assert by_reason.headline == "75%"

    def test_a_store_scope_counts_only_what_its_stores_took_back(self) -> None:
        north, south = StoreFactory.create(name="North"), StoreFactory.create(name="South")
        bought = rows.order(
            customer=CustomerFactory.create(), channel=Channel.WEB, placed_at=T0, lines=2
        )
        rows.returned(
            bought=bought, store=north, completed_at=T0, lines=[(ReturnReason.DAMAGED, 1)]
        )
        rows.returned(bought=bought, store=south, completed_at=T0, lines=[(ReturnReason.OTHER, 2)])

        charts = stores.returns(scope(store_ids=(north.pk,)))

        assert table(by_key(charts, "returns-by-store")) == {"North": [1]}
        assert table(by_key(charts, "returns-by-reason")) == {"Damaged or faulty": [1]}


class TestMultichannel:
    @pytest.fixture
    def shoppers(self) -> dict[str, Store]:
        north, south = StoreFactory.create(name="North"), StoreFactory.create(name="South")
        c1, c2, c3, c4, c5, c6 = (CustomerFactory.create() for _ in range(6))
        rows.order(customer=c1, channel=Channel.WEB, placed_at=T0)
        rows.order(customer=c1, channel=Channel.STORE, placed_at=T0, store=north)  # 2 channels
        rows.order(customer=c2, channel=Channel.WEB, placed_at=T0)  # 1
        bought = rows.order(customer=c3, channel=Channel.WEB, placed_at=T0)
        rows.inquiry(created_at=T0, channel=Channel.PHONE, customer=c3)
        rows.returned(bought=bought, store=north, completed_at=T0, lines=[("damaged", 1)])  # 3
        rows.order(customer=c4, channel=Channel.KIOSK, placed_at=T0, store=south)  # 1 (store)
        rows.order(customer=c5, channel=Channel.WEB, placed_at=START - timedelta(days=1))  # out
        rows.order(customer=c5, channel=Channel.STORE, placed_at=END, store=north)  # out
        rows.pickup(
            store=south,
            status=PickupStatus.COLLECTED,
            ready_at=T0,
            collected_at=T0 + timedelta(hours=1),
            customer=c6,
        )  # the web order (placed the day before, in range) and the collection: 2
        rows.inquiry(
            created_at=T0, channel=Channel.EMAIL, customer=c2, automated_reason="Auto-Submitted"
        )  # a machine's mail: not c2 being active
        return {"north": north, "south": south}

    def test_customers_by_number_of_channels(self, shoppers) -> None:
        (chart,) = stores.multichannel(scope())

        assert table(chart) == {"One channel": [2], "Two channels": [2], "Three or more": [1]}
        assert chart.headline == "60%"
        assert chart.headline_label == "of 5 active customers used two channels or more"

    def test_a_store_counts_its_own_customers_and_never_another_stores_activity(
        self, shoppers
    ) -> None:
        (north,) = stores.multichannel(scope(store_ids=(shoppers["north"].pk,)))
        (south,) = stores.multichannel(scope(store_ids=(shoppers["south"].pk,)))

        assert table(north) == {"One channel": [0], "Two channels": [1], "Three or more": [1]}
        assert table(south) == {"One channel": [1], "Two channels": [1], "Three or more": [0]}
        assert south.headline == "50%"

    def test_no_store_at_all_counts_nobody(self, shoppers) -> None:
        (chart,) = stores.multichannel(scope(store_ids=()))

        assert chart.is_empty
