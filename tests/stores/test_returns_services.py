"""The returns desk's services: refund arithmetic, the window, exchanges, stock, online returns,
the receipt and over-returning under real concurrency."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import Channel, OutboundEmail, Role, User
from customers.models import Activity, ActivityKind
from customers.services import Identity
from orders.models import (
    ItemCondition,
    Order,
    OrderLine,
    Refund,
    RefundMethod,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
)
from orders.services import LineInput, order_record
from orders.services.returns import (
    return_create,
    return_receive,
    return_request_online,
    return_settlement,
)
from stores.models import StockLevel, StockMovement, Store, StoreKind, StoreRole
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff
from tests.stores.test_services import run_at_once

RESELLABLE, WRITE_OFF = ItemCondition.RESELLABLE, ItemCondition.WRITE_OFF


@pytest.fixture
def union() -> Store:
    return StoreFactory.create(code="sf-union", name="Union Square")


@pytest.fixture
def associate(union: Store) -> User:
    return store_staff(union, StoreRole.ASSOCIATE)


@pytest.fixture
def manager(union: Store) -> User:
    return store_staff(union, StoreRole.MANAGER)


def web_order(days_ago: int = 3, **kwargs: object) -> Order:
    """Ana's web order: 2 linen tees at 30.00 and a scarf at 40.00; 8.00 tax, 6.00 shipping."""
    ProductFactory.create(sku="TEE", name="Linen tee", price=Decimal("30.00"))
    ProductFactory.create(sku="SCARF", name="Silk scarf", price=Decimal("40.00"))
    defaults: dict[str, object] = {
        "identity": Identity(email="ana@example.com", first_name="Ana", last_name="López"),
        "channel": Channel.WEB,
        "lines": [LineInput(sku="TEE", quantity=2), LineInput(sku="SCARF", quantity=1)],
        "tax": Decimal("8.00"),
        "shipping": Decimal("6.00"),
        "placed_at": timezone.now() - timedelta(days=days_ago),
    }
    return order_record(**(defaults | kwargs))


def line(order: Order, sku: str) -> OrderLine:
    return order.lines.get(sku=sku)


def give_back(order: Order, store: Store, actor: User, *items, **kwargs) -> Return:
    return return_create(order=order, lines=list(items), store=store, actor=actor, **kwargs)


@pytest.mark.django_db
class TestRefundArithmetic:
    def test_one_item_refunds_its_price_and_its_share_of_tax(self, union, associate) -> None:
        order = web_order()

        returned = give_back(
            order, union, associate, (line(order, "TEE"), 1, ReturnReason.CHANGED_MIND, RESELLABLE)
        )

        # 30.00 of a 100.00 subtotal: 30% of 8.00 tax; no shipping, the customer changed her mind
        assert returned.refund_items == Decimal("30.00")
        assert returned.refund_tax == Decimal("2.40")
        assert returned.refund_shipping == Decimal("0")
        assert returned.refund_total == Decimal("32.40")
        assert returned.number == f"R{100000 + returned.pk}"
        assert ReturnLine.objects.get().refund_amount == Decimal("32.40")
        refund = Refund.objects.get()
        assert (refund.amount, refund.kind, refund.method, refund.order) == (
            Decimal("32.40"),
            "return",
            RefundMethod.ORIGINAL_PAYMENT,
            order,
        )

    def test_the_retailers_fault_refunds_shipping_once_per_order(self, union, associate) -> None:
        order = web_order()

        first = give_back(
            order, union, associate, (line(order, "SCARF"), 1, ReturnReason.DAMAGED, WRITE_OFF)
        )
        second = give_back(
            order, union, associate, (line(order, "TEE"), 1, ReturnReason.WRONG_ITEM, RESELLABLE)
        )

        assert (first.refund_items, first.refund_tax, first.refund_shipping) == (
            Decimal("40.00"),
            Decimal("3.20"),
            Decimal("6.00"),
        )
        assert first.refund_total == Decimal("49.20")
        assert second.refund_shipping == Decimal("0")
        assert second.refund_total == Decimal("32.40")

    def test_partial_returns_of_a_whole_order_give_back_exactly_the_tax_charged(
        self, union, associate
    ) -> None:
        ProductFactory.create(sku="SOCK", name="Wool socks", price=Decimal("3.33"))
        order = order_record(
            identity=Identity(email="ana@example.com"),
            channel=Channel.WEB,
            lines=[LineInput(sku="SOCK", quantity=3)],
            tax=Decimal("0.85"),
        )
        sock = line(order, "SOCK")

        returns = [
            give_back(order, union, associate, (sock, 1, ReturnReason.DOES_NOT_FIT, RESELLABLE))
            for _ in range(3)
        ]

        # 0.85 / 3 = 0.2833...: rounded on the running total, 0.28 + 0.29 + 0.28
        assert [r.refund_tax for r in returns] == [
            Decimal("0.28"),
            Decimal("0.29"),
            Decimal("0.28"),
        ]
        assert sum(r.refund_tax for r in returns) == order.tax
        assert sum(r.refund_total for r in returns) == order.total

    def test_tax_is_shared_between_the_lines_of_one_return(self, union, associate) -> None:
        order = web_order()

        give_back(
            order,
            union,
            associate,
            (line(order, "TEE"), 2, ReturnReason.CHANGED_MIND, RESELLABLE),
            (line(order, "SCARF"), 1, ReturnReason.CHANGED_MIND, RESELLABLE),
        )

        amounts = list(ReturnLine.objects.values_list("refund_amount", flat=True))
        assert amounts == [Decimal("64.80"), Decimal("43.20")]
        assert Return.objects.get().refund_total == Decimal("108.00")


@pytest.mark.django_db
class TestQuantities:
    def test_a_line_returned_in_several_returns_stops_at_what_was_bought(
        self, union, associate
    ) -> None:
        order = web_order()
        tee = line(order, "TEE")
        give_back(order, union, associate, (tee, 1, ReturnReason.CHANGED_MIND, RESELLABLE))
        give_back(order, union, associate, (tee, 1, ReturnReason.DOES_NOT_FIT, RESELLABLE))

        with pytest.raises(ValidationError) as refused:
            give_back(order, union, associate, (tee, 1, ReturnReason.CHANGED_MIND, RESELLABLE))

        assert "Only 0 of “Linen tee” left to return (2 bought, 2 returned" in str(refused.value)
        assert Return.objects.count() == 2

    def test_the_refusal_says_what_was_returned_where(self, union, associate) -> None:
        order = web_order()
        tee = line(order, "TEE")
        give_back(order, union, associate, (tee, 1, ReturnReason.CHANGED_MIND, RESELLABLE))
        today = timezone.localdate()

        with pytest.raises(ValidationError) as refused:
            give_back(order, union, associate, (tee, 2, ReturnReason.CHANGED_MIND, RESELLABLE))

        assert refused.value.message_dict["lines"] == [
            "Only 1 of “Linen tee” left to return (2 bought, 1 returned at Union Square on "
            f"{today:%b} {today.day})."
        ]

    @pytest.mark.parametrize("quantity", [0, -1])
    def test_a_quantity_below_one_is_refused(self, union, associate, quantity) -> None:
        order = web_order()

        with pytest.raises(ValidationError, match="must be at least 1"):
            give_back(
                order,
                union,
                associate,
                (line(order, "TEE"), quantity, ReturnReason.CHANGED_MIND, RESELLABLE),
            )

        assert not Return.objects.exists()

    def test_a_line_of_another_order_is_refused(self, union, associate) -> None:
        order = web_order()
        other = order_record(
            identity=Identity(email="bo@example.com"),
            channel=Channel.WEB,
            lines=[LineInput(sku="TEE", quantity=1)],
        )

        with pytest.raises(ValidationError, match="is not on order"):
            give_back(
                order, union, associate, (line(other, "TEE"), 1, ReturnReason.OTHER, RESELLABLE)
            )

    def test_bad_codes_are_refused_with_field_messages(self, union, associate) -> None:
        order = web_order()

        with pytest.raises(ValidationError) as refused:
            give_back(
                order,
                union,
                associate,
                (line(order, "TEE"), 1, "bored", "shiny"),
                refund_method="cash",
            )

        errors = refused.value.message_dict
        assert errors["refund_method"] == ["Choose how the refund is paid."]
        assert "Choose a reason for returning “Linen tee”." in errors["lines"]
        assert "Say whether “Linen tee” can be sold again." in errors["lines"]

    def test_a_warehouse_is_not_a_returns_desk(self, associate) -> None:
        order = web_order()
        warehouse = StoreFactory.create(kind=StoreKind.WAREHOUSE)

        with pytest.raises(ValidationError, match="not a store"):
            give_back(order, warehouse, associate, (line(order, "TEE"), 1, "other", RESELLABLE))


@pytest.mark.django_db
class TestWindow:
    def item(self, order: Order) -> tuple:
        return (line(order, "TEE"), 1, ReturnReason.CHANGED_MIND, RESELLABLE)

    def test_an_associate_cannot_return_past_the_window(self, union, associate) -> None:
        order = web_order(days_ago=31)

        with pytest.raises(ValidationError) as refused:
            give_back(order, union, associate, self.item(order), override_reason="Regular")

        assert refused.value.message_dict["override_reason"] == [
            f"Order {order.number} was placed 31 days ago, outside Union Square’s 30-day return "
            "window: a store manager must accept this return."
        ]
        assert not Return.objects.exists()

    def test_a_manager_must_say_why(self, union, manager) -> None:
        order = web_order(days_ago=31)

        with pytest.raises(ValidationError, match="say why you accept it"):
            give_back(order, union, manager, self.item(order), override_reason="  ")

    def test_a_manager_of_another_store_cannot_override(self, union) -> None:
        order = web_order(days_ago=31)
        elsewhere = store_staff(StoreFactory.create(), StoreRole.MANAGER)

        with pytest.raises(ValidationError, match="a store manager must accept"):
            give_back(order, union, elsewhere, self.item(order), override_reason="Why not")

    def test_a_manager_with_a_reason_is_recorded(self, union, manager) -> None:
        order = web_order(days_ago=45)

        returned = give_back(
            order, union, manager, self.item(order), override_reason="Gift, receipt lost"
        )

        assert (returned.override_by, returned.override_reason) == (manager, "Gift, receipt lost")

    def test_a_supervisor_may_override_anywhere(self, union) -> None:
        order = web_order(days_ago=45)
        supervisor = UserFactory.create(role=Role.SUPERVISOR)

        returned = give_back(order, union, supervisor, self.item(order), override_reason="Goodwill")

        assert returned.override_by == supervisor

    def test_the_window_is_the_stores_own(self, union, associate) -> None:
        union.return_window_days = 60
        union.save()
        order = web_order(days_ago=45)

        returned = give_back(order, union, associate, self.item(order))

        assert (returned.override_by, returned.override_reason) == (None, "")

    def test_inside_the_window_no_override_is_recorded(self, union, manager) -> None:
        order = web_order(days_ago=30)

        returned = give_back(order, union, manager, self.item(order), override_reason="Ignored")

        assert (returned.override_by, returned.override_reason) == (None, "")


@pytest.mark.django_db
class TestExchange:
    def test_a_cheaper_new_order_is_paid_from_the_refund_and_the_rest_refunded(
        self, union, associate
    ) -> None:
        order = web_order()
        ProductFactory.create(sku="CAP", name="Cap", price=Decimal("12.00"))

        returned = give_back(
            order,
            union,
            associate,
            (line(order, "SCARF"), 1, ReturnReason.CHANGED_MIND, RESELLABLE),
            refund_method=RefundMethod.STORE_CREDIT,
            exchange_lines=[LineInput(sku="CAP", quantity=1)],
        )

        exchange = returned.exchange_order
        assert exchange is not None
        assert (exchange.channel, exchange.store, exchange.customer) == (
            Channel.STORE,
            union,
            order.customer,
        )
        assert exchange.total == Decimal("12.00")
        # 40.00 + 3.20 tax = 43.20, of which 12.00 pays the cap
        refund = Refund.objects.get()
        assert (refund.amount, refund.method) == (Decimal("31.20"), RefundMethod.STORE_CREDIT)
        settlement = return_settlement(returned, exchange.total)
        assert settlement.customer_paid == Decimal("0")
        timeline = Activity.objects.get(kind=ActivityKind.RETURN_RECEIVED)
        assert f"USD 12.00 paid for exchange order {exchange.number}" in timeline.detail

    def test_a_dearer_new_order_refunds_nothing_and_records_what_the_customer_paid(
        self, union, associate
    ) -> None:
        order = web_order()
        ProductFactory.create(sku="COAT", name="Wool coat", price=Decimal("100.00"))

        returned = give_back(
            order,
            union,
            associate,
            (line(order, "TEE"), 1, ReturnReason.DOES_NOT_FIT, RESELLABLE),
            exchange_lines=[LineInput(sku="COAT", quantity=1)],
        )

        assert not Refund.objects.exists()
        assert returned.refund_total == Decimal("32.40")
        settlement = return_settlement(returned, Decimal("100.00"))
        assert (settlement.applied_to_exchange, settlement.customer_paid) == (
            Decimal("32.40"),
            Decimal("67.60"),
        )
        timeline = Activity.objects.get(kind=ActivityKind.RETURN_RECEIVED)
        assert "customer paid the difference of USD 67.60" in timeline.detail
        assert "refunded USD 0.00" in timeline.detail

    def test_an_unknown_exchange_sku_stores_nothing(self, union, associate) -> None:
        order = web_order()

        with pytest.raises(ValidationError) as refused:
            give_back(
                order,
                union,
                associate,
                (line(order, "TEE"), 1, ReturnReason.DOES_NOT_FIT, RESELLABLE),
                exchange_lines=[LineInput(sku="NOPE", quantity=1)],
            )

        assert refused.value.message_dict == {"exchange_lines": ["Unknown SKU: NOPE."]}
        assert not Return.objects.exists()
        assert Order.objects.count() == 1


@pytest.mark.django_db
class TestStockTimelineReceipt:
    def test_resellable_items_go_back_to_this_stores_stock_and_write_offs_do_not(
        self, union, associate
    ) -> None:
        order = web_order()

        returned = give_back(
            order,
            union,
            associate,
            (line(order, "TEE"), 2, ReturnReason.DOES_NOT_FIT, RESELLABLE),
            (line(order, "SCARF"), 1, ReturnReason.DAMAGED, WRITE_OFF),
        )

        level = StockLevel.objects.get()
        assert (level.store, level.product.sku, level.on_hand) == (union, "TEE", 2)
        movement = StockMovement.objects.get()
        assert (movement.kind, movement.reference) == ("return_to_stock", returned.number)
        written_off = ReturnLine.objects.get(condition=WRITE_OFF)
        assert written_off.order_line.sku == "SCARF"

    def test_the_customer_timeline_and_receipt(self, union, associate) -> None:
        order = web_order()

        returned = give_back(
            order, union, associate, (line(order, "SCARF"), 1, ReturnReason.DAMAGED, WRITE_OFF)
        )

        entry = Activity.objects.get(kind=ActivityKind.RETURN_RECEIVED)
        assert (entry.customer, entry.channel, entry.store, entry.actor) == (
            order.customer,
            Channel.STORE,
            union,
            associate,
        )
        assert (entry.subject_type, entry.subject_id) == ("order", order.number)
        assert entry.summary == (
            f"Return {returned.number} at Union Square of order {order.number}: 1 × Silk scarf"
        )
        receipt = OutboundEmail.objects.get(key=f"return-receipt:{returned.pk}")
        assert receipt.to == ["ana@example.com"]
        assert receipt.subject == f"Your return {returned.number} at Union Square"
        assert "not resellable, written off" in receipt.text_body
        assert "Shipping: USD 6.00" in receipt.text_body
        assert "Refunded to original payment: USD 49.20" in receipt.text_body

    def test_one_receipt_per_return(self, union, associate) -> None:
        order = web_order()
        tee = line(order, "TEE")

        for _ in range(2):
            give_back(order, union, associate, (tee, 1, ReturnReason.CHANGED_MIND, RESELLABLE))

        keys = sorted(OutboundEmail.objects.values_list("key", flat=True))
        returns = Return.objects.order_by("pk")
        assert [k for k in keys if k.startswith("return-receipt:")] == sorted(
            f"return-receipt:{r.pk}" for r in returns
        )


@pytest.mark.django_db
class TestOnlineReturn:
    def test_started_online_then_received_at_a_store(self, union, associate) -> None:
        order = web_order()
        tee = line(order, "TEE")

        requested = return_request_online(
            order=order, lines=[(tee, 1, ReturnReason.WRONG_ITEM, RESELLABLE)]
        )

        assert (requested.status, requested.channel, requested.store) == (
            ReturnStatus.AWAITING_ITEMS,
            Channel.WEB,
            None,
        )
        assert requested.refund_total == Decimal("0")
        assert not Refund.objects.exists()
        assert Activity.objects.filter(kind=ActivityKind.RETURN_REQUESTED).count() == 1
        # the quantity is held: only one tee is left to return at a desk
        with pytest.raises(ValidationError, match="Only 1 of"):
            give_back(order, union, associate, (tee, 2, ReturnReason.CHANGED_MIND, RESELLABLE))

        received = return_receive(return_request=requested, store=union, actor=associate)

        assert (received.status, received.store, received.processed_by) == (
            ReturnStatus.COMPLETED,
            union,
            associate,
        )
        assert received.refund_total == Decimal("38.40")  # 30.00 + 2.40 tax + 6.00 shipping
        assert Refund.objects.get().amount == Decimal("38.40")
        assert StockLevel.objects.get(store=union).on_hand == 1
        assert Activity.objects.filter(kind=ActivityKind.RETURN_RECEIVED).count() == 1
        assert OutboundEmail.objects.filter(key=f"return-receipt:{received.pk}").count() == 1

    def test_received_at_the_warehouse(self) -> None:
        order = web_order()
        warehouse = StoreFactory.create(name="Reno", kind=StoreKind.WAREHOUSE)
        clerk = UserFactory.create(role=Role.ADMIN)
        requested = return_request_online(
            order=order, lines=[(line(order, "TEE"), 1, ReturnReason.CHANGED_MIND, RESELLABLE)]
        )

        return_receive(return_request=requested, store=warehouse, actor=clerk)

        entry = Activity.objects.get(kind=ActivityKind.RETURN_RECEIVED)
        assert (entry.channel, entry.store) == (Channel.WEB, warehouse)
        assert StockLevel.objects.get().store == warehouse

    def test_receiving_twice_is_refused(self, union, associate) -> None:
        order = web_order()
        requested = return_request_online(
            order=order, lines=[(line(order, "TEE"), 1, ReturnReason.CHANGED_MIND, RESELLABLE)]
        )
        return_receive(return_request=requested, store=union, actor=associate)

        with pytest.raises(ValidationError, match="already received at Union Square"):
            return_receive(return_request=requested, store=union, actor=associate)

        assert Refund.objects.count() == 1

    def test_an_online_return_past_the_window_is_refused(self) -> None:
        order = web_order(days_ago=40)

        with pytest.raises(ValidationError, match="30-day window"):
            return_request_online(
                order=order, lines=[(line(order, "TEE"), 1, ReturnReason.OTHER, RESELLABLE)]
            )


@pytest.mark.django_db(transaction=True)
def test_concurrent_returns_of_one_line_never_exceed_what_was_bought(union, associate) -> None:
    # given 3 tees bought, and eight associates each returning one at the same moment
    ProductFactory.create(sku="TEE", name="Linen tee", price=Decimal("30.00"))
    order = order_record(
        identity=Identity(email="ana@example.com"),
        channel=Channel.WEB,
        lines=[LineInput(sku="TEE", quantity=3)],
        shipping=Decimal("6.00"),
    )
    tee = line(order, "TEE")

    outcomes = run_at_once(
        8,
        lambda: give_back(order, union, associate, (tee, 1, ReturnReason.DAMAGED, RESELLABLE)),
    )

    assert sum(outcome is None for outcome in outcomes) == 3
    refusals = [outcome for outcome in outcomes if outcome is not None]
    assert all(isinstance(refusal, ValidationError) for refusal in refusals), refusals
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 3
    # the shipping charge was refunded by exactly one of them
    assert Return.objects.filter(refund_shipping__gt=0).count() == 1
    assert StockLevel.objects.get().on_hand == 3
