"""stock_adjust: every action, every refusal, and the row lock under real concurrency."""

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from crm.models import Role
from orders.models import Product
from stores.models import StockAction, StockLevel, StockMovement, Store
from stores.services import stock_adjust
from tests.factories import ProductFactory, StoreFactory, UserFactory


@pytest.fixture
def store() -> Store:
    return StoreFactory.create(name="Union Square")


@pytest.fixture
def product() -> Product:
    return ProductFactory.create(sku="SKU-123")


def adjust(store: Store, product: Product, action: str, quantity: int, **kwargs) -> StockLevel:
    return stock_adjust(store=store, product=product, action=action, quantity=quantity, **kwargs)


@pytest.mark.django_db
class TestActions:
    def test_receiving_makes_the_level_and_records_the_movement(self, store, product) -> None:
        clerk = UserFactory.create(role=Role.ASSOCIATE)

        level = adjust(
            store,
            product,
            StockAction.RECEIVE,
            10,
            actor=clerk,
            reason="Delivery",
            reference="PO-9",
        )

        assert (level.on_hand, level.reserved, level.available) == (10, 0, 10)
        movement = StockMovement.objects.get()
        assert (movement.store, movement.product, movement.kind, movement.actor) == (
            store,
            product,
            StockAction.RECEIVE,
            clerk,
        )
        assert (movement.on_hand_change, movement.reserved_change) == (10, 0)
        assert (movement.on_hand_after, movement.reserved_after) == (10, 0)
        assert (movement.reason, movement.reference) == ("Delivery", "PO-9")

    @pytest.mark.parametrize(
        ("action", "quantity", "expected", "change"),
        [
            (StockAction.RECEIVE, 3, (13, 4), (3, 0)),
            (StockAction.SELL, 6, (4, 4), (-6, 0)),
            (StockAction.RESERVE, 6, (10, 10), (0, 6)),
            (StockAction.RELEASE, 4, (10, 0), (0, -4)),
            (StockAction.SELL_RESERVED, 4, (6, 0), (-4, -4)),
            (StockAction.RETURN_TO_STOCK, 1, (11, 4), (1, 0)),
        ],
    )
    def test_each_action_moves_on_hand_and_reserved(
        self, store, product, action, quantity, expected, change
    ) -> None:
        # given 10 on hand, 4 of them reserved for pickups: 6 available
        adjust(store, product, StockAction.RECEIVE, 10)
        adjust(store, product, StockAction.RESERVE, 4, reference="W100001")

        level = adjust(store, product, action, quantity, reference="R1")

        assert (level.on_hand, level.reserved) == expected
        level.refresh_from_db()
        assert (level.on_hand, level.reserved) == expected
        last = StockMovement.objects.order_by("-id").first()
        assert last is not None
        assert (last.kind, last.on_hand_change, last.reserved_change) == (action, *change)
        assert (last.on_hand_after, last.reserved_after) == expected

    def test_each_location_keeps_its_own_stock(self, store, product) -> None:
        other = StoreFactory.create(name="Mission")
        adjust(store, product, StockAction.RECEIVE, 5)
        adjust(other, product, StockAction.RECEIVE, 2)

        adjust(other, product, StockAction.SELL, 2)

        assert dict(StockLevel.objects.values_list("store__name", "on_hand")) == {
            "Union Square": 5,
            "Mission": 0,
        }


@pytest.mark.django_db
class TestRefusals:
    @pytest.fixture(autouse=True)
    def _stock(self, store, product) -> None:
        # 5 on hand, 3 reserved: 2 available
        adjust(store, product, StockAction.RECEIVE, 5)
        adjust(store, product, StockAction.RESERVE, 3)

    @pytest.mark.parametrize(
        ("action", "message"),
        [
            (StockAction.SELL, "Only 2 of SKU-123 available at Union Square."),
            (StockAction.RESERVE, "Only 2 of SKU-123 available at Union Square."),
            (StockAction.RELEASE, "Only 3 of SKU-123 reserved at Union Square."),
            (StockAction.SELL_RESERVED, "Only 3 of SKU-123 reserved at Union Square."),
        ],
    )
    def test_nothing_goes_beyond_what_there_is(self, store, product, action, message) -> None:
        too_many = 4 if action in {StockAction.RELEASE, StockAction.SELL_RESERVED} else 3

        with pytest.raises(ValidationError) as refused:
            adjust(store, product, action, too_many)

        assert refused.value.message_dict == {"quantity": [message]}
        self.assert_unchanged(store, product)

    def test_what_is_available_can_be_taken_exactly(self, store, product) -> None:
        level = adjust(store, product, StockAction.SELL, 2)

        assert (level.on_hand, level.reserved, level.available) == (3, 3, 0)

    @pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True])
    def test_the_quantity_is_a_positive_whole_number(self, store, product, quantity) -> None:
        for action in StockAction.values:
            with pytest.raises(ValidationError) as refused:
                adjust(store, product, action, quantity)
            assert list(refused.value.message_dict) == ["quantity"]
        self.assert_unchanged(store, product)

    def test_an_unknown_action_is_refused(self, store, product) -> None:
        with pytest.raises(ValidationError, match="not a stock action"):
            adjust(store, product, "steal", 1)
        self.assert_unchanged(store, product)

    def test_nothing_is_sold_where_there_never_was_any(self, product) -> None:
        elsewhere = StoreFactory.create(name="Oakland")

        with pytest.raises(ValidationError, match="Only 0 of SKU-123 available at Oakland"):
            adjust(elsewhere, product, StockAction.SELL, 1)

        assert not StockLevel.objects.filter(store=elsewhere).exists()

    def test_the_database_refuses_negative_stock_whatever_writes_it(self, store) -> None:
        for on_hand, reserved in [(-1, 0), (1, -1), (1, 2)]:
            with pytest.raises(IntegrityError), transaction.atomic():
                StockLevel.objects.create(
                    store=store, product=ProductFactory.create(), on_hand=on_hand, reserved=reserved
                )

    @staticmethod
    def assert_unchanged(store, product) -> None:
        level = StockLevel.objects.get(store=store, product=product)
        assert (level.on_hand, level.reserved) == (5, 3)
        assert StockMovement.objects.count() == 2


def run_at_once(count: int, work: Callable[[], None]) -> list[BaseException | None]:
    """Run `work` in `count` threads released together; each thread's outcome, None for success."""
    barrier = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # every outcome is asserted on by the test
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_twenty_customers_reserve_the_last_five_units_and_five_get_one(
        self, store, product
    ) -> None:
        adjust(store, product, StockAction.RECEIVE, 5)

        outcomes = run_at_once(
            20, lambda: adjust(store, product, StockAction.RESERVE, 1, reference="pickup")
        )

        assert sum(outcome is None for outcome in outcomes) == 5
        refusals = [outcome for outcome in outcomes if outcome is not None]
        assert all(isinstance(refusal, ValidationError) for refusal in refusals), refusals
        level = StockLevel.objects.get(store=store, product=product)
        assert (level.on_hand, level.reserved, level.available) == (5, 5, 0)
        assert StockMovement.objects.filter(kind=StockAction.RESERVE).count() == 5

    def test_concurrent_first_deliveries_lose_no_unit(self, store, product) -> None:
        # No level row yet: the first receipts also race to create it.
        outcomes = run_at_once(20, lambda: adjust(store, product, StockAction.RECEIVE, 3))

        assert outcomes == [None] * 20
        level = StockLevel.objects.get(store=store, product=product)
        assert level.on_hand == 60
        assert sorted(StockMovement.objects.values_list("on_hand_after", flat=True)) == list(
            range(3, 61, 3)
        )
