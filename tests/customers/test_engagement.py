"""Marketing touches and web activity: their effects and their timeline entries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import AuditEntry, Channel
from customers.engagement import (
    CartItem,
    cart_abandoned,
    cart_recovered,
    engagement_customer,
    touch_event,
    touch_record,
    visit_record,
    wish_list,
    wishlist_add,
    wishlist_remove,
)
from customers.models import (
    Activity,
    ActivityKind,
    Cart,
    Customer,
    Touch,
    TouchChannel,
    WishListItem,
)
from customers.services import Identity, customer_merge
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_customer() -> Customer:
    customer: Customer = CustomerFactory()
    return customer


def make_order(customer, number: str = "W100231") -> Order:
    return Order.objects.create(number=number, customer=customer, channel=Channel.WEB)


def send(customer, **kwargs):
    values = {
        "source": "mailer",
        "external_id": "t-1",
        "offer_type": "percent_off",
        "offer_value": Decimal("20"),
        "channel": TouchChannel.EMAIL,
    }
    return touch_record(customer=customer, **{**values, **kwargs})


class TestTouches:
    def test_a_sent_offer_is_on_the_timeline_and_audited(self) -> None:
        customer = new_customer()

        recorded = send(customer, campaign="Spring sale")

        assert recorded.created
        entry = Activity.objects.get(kind=ActivityKind.OFFER_SENT)
        assert (entry.customer, entry.summary, entry.channel) == (
            customer,
            "Offer 20% off sent by e-mail",
            Channel.EMAIL,
        )
        assert "Spring sale" in entry.detail
        assert AuditEntry.objects.filter(action="touch.record").count() == 1

    def test_summaries_name_the_offer(self) -> None:
        customer = new_customer()
        send(
            customer,
            external_id="a",
            offer_type="amount_off",
            offer_value=Decimal("10"),
            channel="sms",
        )
        send(
            customer, external_id="b", offer_type="free_shipping", offer_value=None, channel="mail"
        )

        summaries = set(Activity.objects.values_list("summary", flat=True))
        assert summaries == {"Offer $10.00 off sent by SMS", "Offer free shipping sent by post"}

    def test_the_same_external_id_is_the_same_touch(self) -> None:
        customer = new_customer()
        first = send(customer)

        again = send(customer, campaign="changed")

        assert not again.created
        assert again.obj.pk == first.obj.pk
        assert Touch.objects.count() == 1
        assert Activity.objects.filter(kind=ActivityKind.OFFER_SENT).count() == 1

    def test_a_percentage_needs_a_value_up_to_100(self) -> None:
        customer = new_customer()
        with pytest.raises(ValidationError):
            send(customer, offer_value=None)
        with pytest.raises(ValidationError):
            send(customer, offer_value=Decimal("120"))

    def test_events_keep_their_first_time(self) -> None:
        customer = new_customer()
        touch = send(customer).obj
        first = timezone.now() - timedelta(hours=2)

        touch_event(touch=touch, event="opened", at=first)
        again = touch_event(touch=touch, event="opened", at=timezone.now())

        touch.refresh_from_db()
        assert not again.created
        assert touch.opened_at == first
        assert Activity.objects.filter(kind=ActivityKind.OFFER_OPENED).count() == 1

    def test_redeemed_links_the_order_and_the_timeline_entry(self) -> None:
        customer = new_customer()
        order = make_order(customer)
        touch = send(customer).obj

        touch_event(touch=touch, event="redeemed", order_number=order.number)

        touch.refresh_from_db()
        assert touch.redeemed_order == order
        entry = Activity.objects.get(kind=ActivityKind.OFFER_REDEEMED)
        assert entry.summary == "Offer 20% off redeemed on order W100231"
        assert (entry.subject_type, entry.subject_id) == ("order", "W100231")

    def test_redeemed_refuses_an_unknown_order_or_another_customers(self) -> None:
        customer = new_customer()
        make_order(new_customer(), "W2")
        touch = send(customer).obj

        with pytest.raises(ValidationError) as unknown:
            touch_event(touch=touch, event="redeemed", order_number="W404")
        with pytest.raises(ValidationError) as foreign:
            touch_event(touch=touch, event="redeemed", order_number="W2")

        assert "order" in unknown.value.message_dict
        assert "another customer" in foreign.value.message_dict["order"][0]
        touch.refresh_from_db()
        assert touch.redeemed_at is None


class TestWebActivity:
    def test_a_visit_says_where_she_came_from(self) -> None:
        customer = new_customer()

        visit_record(customer=customer, source="promotion", campaign="Spring sale")

        entry = Activity.objects.get(kind=ActivityKind.VISIT)
        assert (entry.summary, entry.channel) == ("Visited from a promotion", Channel.WEB)

    def test_the_wish_list_is_the_rows_not_removed(self) -> None:
        customer = new_customer()
        coat, scarf = ProductFactory(name="Wool coat"), ProductFactory(name="Scarf")

        wishlist_add(customer=customer, sku=coat.sku)
        twice = wishlist_add(customer=customer, sku=coat.sku)
        wishlist_add(customer=customer, sku=scarf.sku)
        wishlist_remove(customer=customer, sku=scarf.sku)
        nothing = wishlist_remove(customer=customer, sku=scarf.sku)

        assert not twice.created and not nothing.created
        assert [item.product for item in wish_list(customer)] == [coat]
        assert WishListItem.objects.count() == 2
        summaries = list(
            Activity.objects.filter(kind=ActivityKind.WISHLIST_CHANGED)
            .order_by("id")
            .values_list("summary", flat=True)
        )
        assert summaries == [
            f"Added Wool coat ({coat.sku}) to the wish list",
            f"Added Scarf ({scarf.sku}) to the wish list",
            f"Removed Scarf ({scarf.sku}) from the wish list",
        ]

    def test_an_unknown_sku_is_refused(self) -> None:
        with pytest.raises(ValidationError) as error:
            wishlist_add(customer=new_customer(), sku="NOPE")
        assert "sku" in error.value.message_dict

    def test_an_abandoned_cart_and_its_recovery(self) -> None:
        customer = new_customer()
        a, b = ProductFactory(), ProductFactory()
        items = [
            CartItem(sku=a.sku, quantity=2, price=Decimal("49.90")),
            CartItem(sku=b.sku, quantity=1, price=Decimal("84.20")),
        ]

        cart = cart_abandoned(
            customer=customer, source="webshop", external_id="c-1", items=items, step="payment"
        ).obj
        order = make_order(customer)
        cart_recovered(source="webshop", external_id="c-1", order_number=order.number)
        again = cart_recovered(source="webshop", external_id="c-1")

        cart.refresh_from_db()
        assert cart.value == Decimal("184.00")
        assert cart.items[0] == {"sku": a.sku, "quantity": 2, "price": "49.90"}
        assert cart.recovered_order == order
        assert not again.created
        assert Activity.objects.get(kind=ActivityKind.CART_ABANDONED).summary == (
            "Cart abandoned at payment: 3 items, $184.00"
        )
        assert Activity.objects.get(kind=ActivityKind.CART_RECOVERED).summary == (
            "Cart recovered: order W100231"
        )

    def test_a_cart_reported_again_later_is_updated_once(self) -> None:
        customer = new_customer()
        product = ProductFactory()
        items = [CartItem(sku=product.sku, quantity=1, price=Decimal("10"))]
        at = timezone.now() - timedelta(hours=1)
        kwargs = {"customer": customer, "source": "webshop", "external_id": "c-1", "items": items}

        cart_abandoned(**kwargs, step="cart", abandoned_at=at)
        same = cart_abandoned(**kwargs, step="cart", abandoned_at=at)
        later = cart_abandoned(**kwargs, step="review", abandoned_at=at + timedelta(minutes=5))

        assert not same.created and later.created
        assert Cart.objects.get().abandoned_step == "review"
        assert Activity.objects.filter(kind=ActivityKind.CART_ABANDONED).count() == 2

    def test_cart_with_unknown_sku_names_the_item(self) -> None:
        product = ProductFactory()
        items = [
            CartItem(sku=product.sku, quantity=1, price=Decimal("1")),
            CartItem(sku="NOPE", quantity=1, price=Decimal("1")),
        ]
        with pytest.raises(ValidationError) as error:
            cart_abandoned(
                customer=new_customer(), source="w", external_id="1", items=items, step="cart"
            )
        assert "items.1.sku" in error.value.message_dict
        assert not Cart.objects.exists()


class TestCustomer:
    def test_by_identity_resolves_or_creates(self) -> None:
        customer = engagement_customer(identity=Identity(email="ana@example.com"), channel="web")
        again = engagement_customer(identity=Identity(email="ANA@example.com"), channel="web")
        assert customer == again

    def test_a_merged_id_leads_to_the_survivor_and_merges_move_activity(self) -> None:
        survivor, merged = new_customer(), new_customer()
        touch = send(merged).obj
        visit_record(customer=merged, source="search")
        wishlist_add(customer=merged, sku=ProductFactory().sku)

        customer_merge(survivor=survivor, merged=merged, actor=UserFactory(role="supervisor"))

        assert engagement_customer(customer_id=merged.pk, channel="web") == survivor
        touch.refresh_from_db()
        assert touch.customer == survivor
        assert survivor.visits.count() == 1
        assert len(wish_list(survivor)) == 1

    def test_an_unknown_id_is_a_field_error(self) -> None:
        with pytest.raises(ValidationError) as error:
            engagement_customer(customer_id=999999, channel="web")
        assert "customer" in error.value.message_dict
