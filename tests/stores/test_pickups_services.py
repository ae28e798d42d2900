"""Pickups: placement reserves stock, the state machine, collection by code, expiry, reminders."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import AuditEntry, OutboundEmail, Role
from customers.models import Activity, ActivityKind
from orders.models import OrderStatus, Pickup, PickupEvent, PickupStatus, Refund, RefundKind
from orders.services import pickup_collect, pickup_set_status, pickups_expire, pickups_remind
from orders.services.pickups import CODE_ALPHABET, MAX_WRONG_CODES, TRANSITIONS
from stores.models import StockLevel, Store, StoreKind
from tests.factories import UserFactory
from tests.stores.pickup_fixtures import jacket, place_pickup, stocked_store

pytestmark = pytest.mark.django_db
S = PickupStatus


@pytest.fixture
def store() -> Store:
    return stocked_store()


@pytest.fixture
def clerk():
    return UserFactory.create(role=Role.ASSOCIATE)


def level(store: Store) -> tuple[int, int]:
    row = StockLevel.objects.get(store=store, product=jacket())
    return row.on_hand, row.reserved


def move(pickup: Pickup, *path: str, actor=None) -> Pickup:
    for status in path:
        pickup = pickup_set_status(pickup=pickup, to=status, actor=actor)
    return pickup


class TestPlacement:
    def test_a_pickup_order_reserves_its_stock_at_the_store(self, store) -> None:
        pickup = place_pickup(store, quantity=2)

        assert pickup.status == S.PLACED and pickup.store == store
        assert pickup.order.fulfilment == "pickup" and pickup.order.pickup_store == store
        assert level(store) == (5, 2)
        assert list(pickup.events.values_list("from_status", "to_status")) == [("", S.PLACED)]

    def test_a_shortage_is_refused_naming_the_stores_that_have_it(self, store) -> None:
        stocked_store("Mission", "sf-mission", units=3)
        stocked_store("Castro", "sf-castro", units=1)
        short = stocked_store("Soma", "sf-soma", units=1)

        with pytest.raises(ValidationError) as refusal:
            place_pickup(short, quantity=2)

        message = " ".join(refusal.value.messages)
        assert "Soma does not have 2 of JKT-RAIN" in message
        assert "In stock at: Mission, Union Square." in message
        assert "Castro" not in message
        assert not Pickup.objects.filter(store=short).exists()
        assert level(short) == (1, 0)

    def test_a_warehouse_is_not_a_pickup_store(self) -> None:
        warehouse = stocked_store("Reno", "reno")
        Store.objects.filter(pk=warehouse.pk).update(kind=StoreKind.WAREHOUSE)
        warehouse.refresh_from_db()

        with pytest.raises(ValidationError, match="does not hand out pickups"):
            place_pickup(warehouse)


LEGAL = [(origin, to) for origin, targets in TRANSITIONS.items() for to in sorted(targets)]
PATH_TO = {
    S.PLACED: (),
    S.PREPARING: (S.PREPARING,),
    S.READY: (S.PREPARING, S.READY),
    S.COLLECTED: (S.PREPARING, S.READY, S.COLLECTED),
    S.EXPIRED: (S.PREPARING, S.READY, S.EXPIRED),
    S.CANCELLED: (S.CANCELLED,),
}


class TestStateMachine:
    @pytest.mark.parametrize(("origin", "to"), LEGAL)
    def test_every_legal_move_is_recorded(self, store, clerk, origin, to) -> None:
        pickup = move(place_pickup(store), *PATH_TO[origin])

        moved = pickup_set_status(pickup=pickup, to=to, actor=clerk, note="why")

        assert moved.status == to
        event = PickupEvent.objects.filter(pickup=pickup).last()
        assert event is not None
        assert (event.from_status, event.to_status, event.actor, event.note) == (
            origin,
            to,
            clerk,
            "why",
        )
        assert AuditEntry.objects.filter(action=f"pickup.{to}", object_id=str(pickup.pk)).exists()

    @pytest.mark.parametrize(
        ("origin", "to"),
        [(o, t) for o in S.values for t in S.values if t not in TRANSITIONS[o]],
    )
    def test_every_other_move_is_refused_and_changes_nothing(self, store, origin, to) -> None:
        pickup = move(place_pickup(store), *PATH_TO[origin])
        events, stock = pickup.events.count(), level(store)

        with pytest.raises(ValidationError, match="cannot be"):
            pickup_set_status(pickup=pickup, to=to, actor=None)

        pickup.refresh_from_db()
        assert (pickup.status, pickup.events.count(), level(store)) == (origin, events, stock)

    def test_ready_gets_a_code_a_hold_date_and_one_email(self, store, clerk) -> None:
        pickup = move(place_pickup(store), S.PREPARING, S.READY, actor=clerk)

        assert len(pickup.code) == 6 and set(pickup.code) <= set(CODE_ALPHABET)
        assert pickup.ready_at is not None and pickup.hold_until is not None
        assert pickup.hold_until - pickup.ready_at == timedelta(days=store.pickup_hold_days)
        email = OutboundEmail.objects.get(key=f"pickup-ready:{pickup.pk}")
        assert email.to == ["ann@example.com"]
        assert pickup.code in email.text_body
        assert store.name in email.text_body and store.address in email.text_body
        assert store.hours in email.text_body
        assert "PDT" in email.text_body or "PST" in email.text_body
        activity = Activity.objects.get(kind=ActivityKind.PICKUP_READY)
        assert (activity.channel, activity.store, activity.subject_id) == (
            "store",
            store,
            pickup.order.number,
        )

    def test_collected_sells_the_reserved_stock(self, store, clerk) -> None:
        pickup = move(place_pickup(store), S.PREPARING, S.READY)

        pickup = pickup_collect(pickup=pickup, code=pickup.code.lower(), actor=clerk)

        assert pickup.status == S.COLLECTED and pickup.collected_at is not None
        assert level(store) == (3, 0)
        pickup.order.refresh_from_db()
        assert pickup.order.status == OrderStatus.COMPLETED

    @pytest.mark.parametrize(
        ("path", "kind"),
        [
            ((S.PREPARING, S.READY, S.EXPIRED), RefundKind.PICKUP_EXPIRED),
            ((S.CANCELLED,), RefundKind.CANCELLATION),
            ((S.PREPARING, S.READY, S.CANCELLED), RefundKind.CANCELLATION),
        ],
    )
    def test_expired_or_cancelled_releases_refunds_and_tells(self, store, path, kind) -> None:
        pickup = move(place_pickup(store), *path)

        assert level(store) == (5, 0)
        refund = Refund.objects.get(order=pickup.order)
        assert (refund.kind, refund.amount) == (kind, pickup.order.total)
        pickup.order.refresh_from_db()
        assert pickup.order.status == OrderStatus.CANCELLED
        assert OutboundEmail.objects.filter(key=f"pickup-{path[-1]}:{pickup.pk}").count() == 1


class TestCollect:
    def test_a_wrong_code_is_refused_and_counted(self, store, clerk) -> None:
        pickup = move(place_pickup(store), S.PREPARING, S.READY)

        with pytest.raises(ValidationError, match="code is wrong"):
            pickup_collect(pickup=pickup, code="ZZZZZZ", actor=clerk)

        pickup.refresh_from_db()
        assert (pickup.status, pickup.wrong_code_attempts) == (S.READY, 1)
        assert level(store) == (5, 2)

    def test_after_too_many_wrong_codes_only_an_id_check_will_do(self, store, clerk) -> None:
        pickup = move(place_pickup(store), S.PREPARING, S.READY)
        Pickup.objects.filter(pk=pickup.pk).update(wrong_code_attempts=MAX_WRONG_CODES)

        with pytest.raises(ValidationError, match="Too many wrong codes"):
            pickup_collect(pickup=pickup, code=pickup.code, actor=clerk)
        pickup = pickup_collect(pickup=pickup, id_check_reason="Licence checked", actor=clerk)

        assert pickup.status == S.COLLECTED
        assert pickup.events.last().note == "ID checked: Licence checked"

    def test_nothing_given_is_refused(self, store, clerk) -> None:
        pickup = move(place_pickup(store), S.PREPARING, S.READY)

        with pytest.raises(ValidationError, match="Enter the customer's pickup code"):
            pickup_collect(pickup=pickup, code=" ", id_check_reason=" ", actor=clerk)

    def test_a_pickup_not_ready_cannot_be_collected(self, store, clerk) -> None:
        pickup = place_pickup(store)

        with pytest.raises(ValidationError, match="Only a ready pickup"):
            pickup_collect(pickup=pickup, code="ABCDEF", actor=clerk)


class TestExpiryAndReminder:
    def test_expiry_releases_refunds_and_emails_once_when_run_twice(self, store) -> None:
        due = move(place_pickup(store), S.PREPARING, S.READY)
        held = move(place_pickup(store, quantity=1), S.PREPARING, S.READY)
        assert due.hold_until is not None
        later = due.hold_until + timedelta(minutes=1)
        Pickup.objects.filter(pk=held.pk).update(hold_until=later + timedelta(days=1))

        assert pickups_expire(now=later) == 1
        assert pickups_expire(now=later) == 0

        due.refresh_from_db()
        assert due.status == S.EXPIRED
        assert level(store) == (5, 1)
        assert Refund.objects.filter(kind=RefundKind.PICKUP_EXPIRED).count() == 1
        assert OutboundEmail.objects.filter(key=f"pickup-expired:{due.pk}").count() == 1

    def test_reminder_goes_out_once_two_days_before(self, store) -> None:
        pickup = move(place_pickup(store), S.PREPARING, S.READY)
        assert pickup.hold_until is not None
        now = timezone.now()

        assert pickups_remind(now=now) == 0
        soon = pickup.hold_until - timedelta(days=2) + timedelta(minutes=1)
        assert pickups_remind(now=soon) == 1
        assert pickups_remind(now=soon) == 0

        pickup.refresh_from_db()
        assert pickup.reminder_sent_at == soon
        assert OutboundEmail.objects.filter(key=f"pickup-reminder:{pickup.pk}").count() == 1
