from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm.models import AuditEntry, Channel, Role
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
from customers.services import (
    Identity,
    comment_add,
    customer_merge,
    customer_resolve,
    merge_moved_relations,
    merge_suggestion_dismiss,
)
from orders.models import Order
from orders.services import LineInput, order_record
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.django_db


def resolve(**identity: object):
    return customer_resolve(identity=Identity(**identity), source=Channel.WEB)


class TestIdentityResolution:
    @pytest.mark.parametrize(
        "typed", ["(415) 555-0100", "415.555.0100", "+1 415 555 0100", "4155550100"]
    )
    def test_phone_formats_resolve_to_one_customer(self, typed: str) -> None:
        first = resolve(phone="+1 (415) 555-0100", first_name="Ana", last_name="Lopez")

        again = resolve(phone=typed)

        assert first.created and not again.created
        assert again.customer == first.customer
        assert ContactPoint.objects.get(kind=ContactKind.PHONE).value == "+14155550100"

    def test_email_is_case_insensitive(self) -> None:
        first = resolve(email="Ana.Lopez@Example.COM ")

        again = resolve(email="ana.lopez@example.com")

        assert again.customer == first.customer
        assert list(ContactPoint.objects.values_list("value", flat=True)) == [
            "ana.lopez@example.com"
        ]

    def test_new_identifiers_attach_to_the_known_customer(self) -> None:
        store_sale = resolve(phone="415 555 0100", first_name="Ana")

        web_order = resolve(phone="+14155550100", email="ana@example.com", last_name="Lopez")

        customer = web_order.customer
        assert customer == store_sale.customer
        assert set(customer.contact_points.values_list("kind", "value")) == {
            ("phone", "+14155550100"),
            ("email", "ana@example.com"),
        }
        customer.refresh_from_db()
        assert (customer.first_name, customer.last_name) == ("Ana", "Lopez")
        assert (
            Activity.objects.filter(customer=customer, kind=ActivityKind.CONTACT_ADDED).count() == 1
        )

    def test_loyalty_and_external_ids_resolve(self) -> None:
        first = resolve(loyalty_number="lc-0042-17", external_ids={"webshop": "88123"})

        assert resolve(loyalty_number="LC004217").customer == first.customer
        assert resolve(external_ids={"WebShop": "88123"}).customer == first.customer

    def test_two_known_customers_are_never_joined_silently(self) -> None:
        by_phone = resolve(phone="415 555 0100", first_name="Ana")
        by_email = resolve(email="ana@example.com", first_name="Ana")

        result = resolve(email="ana@example.com", phone="415 555 0100")

        assert result.customer == by_email.customer  # the e-mail is the stronger identifier
        assert result.conflicts == [by_phone.customer]
        assert Customer.objects.count() == 2
        assert ContactPoint.objects.get(value="+14155550100").customer == by_phone.customer
        suggestion = MergeSuggestion.objects.get()
        assert suggestion.status == MergeSuggestionStatus.OPEN
        assert "+14155550100" in suggestion.reason

    def test_bad_identifiers_are_refused_with_field_messages(self) -> None:
        with pytest.raises(ValidationError) as error:
            resolve(email="not-an-email", phone="12")

        assert set(error.value.message_dict) == {"email", "phone"}
        assert Customer.objects.count() == 0

    def test_no_identifier_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="needed to identify"):
            resolve(first_name="Ana")

    def test_same_name_and_address_is_suggested_by_the_background_task(
        self, django_capture_on_commit_callbacks
    ) -> None:
        first = resolve(
            email="a@example.com", first_name="Zoë", last_name="Brown", postcode="10001"
        )

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            second = resolve(
                phone="212 555 0199", first_name="Zoe", last_name="BROWN", postcode="10001"
            )

        assert len(callbacks) == 1

        suggestion = MergeSuggestion.objects.get()
        assert {suggestion.customer_a, suggestion.customer_b} == {first.customer, second.customer}
        assert suggestion.reason == "Same name and address"


@pytest.fixture
def supervisor():
    return UserFactory(role=Role.SUPERVISOR)


def _customer_with_history(email: str, phone: str, supervisor):
    product = ProductFactory()
    store = StoreFactory()
    order_record(
        identity=Identity(email=email, first_name="Ana"),
        channel=Channel.WEB,
        lines=[LineInput(sku=product.sku, quantity=1)],
    )
    order_record(
        identity=Identity(phone=phone, last_name="Lopez"),
        channel=Channel.STORE,
        store=store,
        lines=[LineInput(sku=product.sku, quantity=2)],
    )
    web = Customer.objects.get(contact_points__value=email)
    shop = Customer.objects.get(contact_points__kind="phone")
    comment_add(customer=shop, author=supervisor, body="Prefers pickup at the store.")
    return web, shop


class TestMerge:
    def test_every_related_row_moves_and_the_old_id_becomes_an_alias(self, supervisor) -> None:
        web, shop = _customer_with_history("ana@example.com", "415 555 0100", supervisor)
        shop_activities = Activity.objects.filter(customer=shop).count()

        survivor = customer_merge(survivor=web, merged=shop, actor=supervisor)

        shop.refresh_from_db()
        assert shop.merged_into == survivor == web
        assert Order.objects.filter(customer=web).count() == 2
        assert Comment.objects.filter(customer=web).count() == 1
        assert set(web.contact_points.values_list("kind", flat=True)) == {"email", "phone"}
        assert Activity.objects.filter(customer=shop).count() == 0
        assert (
            Activity.objects.filter(customer=web).count() == shop_activities + 2
        )  # + own order + merge
        web.refresh_from_db()
        assert web.last_name == "Lopez"  # blanks filled from the merged record
        audit = AuditEntry.objects.get(action="customer.merge")
        assert audit.actor == supervisor
        assert audit.data["merged_customer"] == shop.pk
        assert audit.data["moved"]["orders.order"] == 1

    def test_merge_resolves_the_suggestion_and_moves_others(self, supervisor) -> None:
        web, shop = _customer_with_history("ana@example.com", "415 555 0100", supervisor)
        third = resolve(email="other@example.com")
        MergeSuggestion.objects.create(
            customer_a=web, customer_b=shop, reason="Same name and address"
        )
        MergeSuggestion.objects.create(
            customer_a=shop, customer_b=third.customer, reason="Shared phone"
        )

        customer_merge(survivor=web, merged=shop, actor=supervisor)

        assert MergeSuggestion.objects.get(customer_b=shop).status == MergeSuggestionStatus.MERGED
        moved = MergeSuggestion.objects.get(customer_b=third.customer)
        assert moved.customer_a == web and moved.reason == "Shared phone"

    def test_merging_into_itself_is_refused(self, supervisor) -> None:
        customer = resolve(email="ana@example.com").customer

        with pytest.raises(ValidationError, match="into itself"):
            customer_merge(survivor=customer, merged=customer, actor=supervisor)

        assert not AuditEntry.objects.filter(action="customer.merge").exists()

    def test_an_alias_cannot_be_merged_again(self, supervisor) -> None:
        a = resolve(email="a@example.com").customer
        b = resolve(email="b@example.com").customer
        c = resolve(email="c@example.com").customer
        customer_merge(survivor=a, merged=b, actor=supervisor)

        with pytest.raises(ValidationError, match="already merged"):
            customer_merge(survivor=c, merged=b, actor=supervisor)

    def test_only_supervisors_merge(self) -> None:
        a = resolve(email="a@example.com").customer
        b = resolve(email="b@example.com").customer

        with pytest.raises(ValidationError):
            customer_merge(survivor=a, merged=b, actor=UserFactory(role=Role.REP))

        assert Customer.objects.filter(merged_into__isnull=False).count() == 0

    def test_every_relation_to_customer_is_moved_or_handled(self) -> None:
        moved = {(r.related_model._meta.label_lower, r.field.name) for r in merge_moved_relations()}

        # A new model pointing at Customer must be added here on purpose, so merges never miss it.
        assert moved == {
            ("customers.contactpoint", "customer"),
            ("customers.activity", "customer"),
            ("customers.comment", "customer"),
            ("orders.order", "customer"),
            ("orders.return", "customer"),
            ("crm.outboundemail", "customer"),
            ("tickets.inquiry", "customer"),
            ("tickets.callbackrequest", "customer"),
            ("customers.touch", "customer"),
            ("customers.visit", "customer"),
            ("customers.wishlistitem", "customer"),
            ("customers.cart", "customer"),
            ("tickets.articledeflection", "customer"),
        }

    def test_dismissed_pairs_stay_dismissed(self, supervisor) -> None:
        a = resolve(email="a@example.com", phone="415 555 0100").customer
        b = resolve(email="b@example.com").customer
        resolve(email="b@example.com", phone="415 555 0100")
        suggestion = MergeSuggestion.objects.get()

        merge_suggestion_dismiss(suggestion=suggestion, actor=supervisor)
        resolve(email="b@example.com", phone="415 555 0100")

        suggestion.refresh_from_db()
        assert suggestion.status == MergeSuggestionStatus.DISMISSED
        assert MergeSuggestion.objects.count() == 1
        assert {a, b} == {suggestion.customer_a, suggestion.customer_b}


class TestComments:
    def test_store_manager_comment_is_on_the_timeline_with_store_and_role(self) -> None:
        store = StoreFactory(name="Downtown")
        manager = store_staff(store)
        customer = resolve(email="ana@example.com").customer

        comment = comment_add(customer=customer, author=manager, body="  Picked up in person.  ")

        assert comment.body == "Picked up in person."
        entry = Activity.objects.get(kind=ActivityKind.COMMENT_ADDED)
        assert (entry.customer, entry.store, entry.actor, entry.actor_role) == (
            customer,
            store,
            manager,
            "manager",
        )
        assert entry.channel == Channel.STORE
        assert entry.detail == "Picked up in person."
        assert AuditEntry.objects.filter(action="comment.add", actor=manager).exists()

    def test_too_long_or_empty_comments_are_refused(self) -> None:
        customer = resolve(email="ana@example.com").customer
        rep = UserFactory(role=Role.REP)

        with pytest.raises(ValidationError, match="at most 2,000 characters; this one has 2,001"):
            comment_add(customer=customer, author=rep, body="x" * 2001)
        with pytest.raises(ValidationError, match="Write a comment"):
            comment_add(customer=customer, author=rep, body="   ")

        assert not Comment.objects.exists()

    def test_line_breaks_count_once(self) -> None:
        customer = resolve(email="ana@example.com").customer
        body = "line\r\n" * 400  # 2,400 characters as sent by a browser, 2,000 as read

        comment = comment_add(customer=customer, author=UserFactory(role=Role.REP), body=body)

        assert len(comment.body) == 1999 and "\r" not in comment.body

    def test_store_staff_comment_only_for_their_store(self) -> None:
        mine, other = StoreFactory(), StoreFactory()
        associate = store_staff(mine, role="associate")
        customer = resolve(email="ana@example.com").customer

        with pytest.raises(ValidationError, match="store you work at"):
            comment_add(customer=customer, author=associate, body="Hello", store=other)

    def test_customers_cannot_comment(self) -> None:
        customer = resolve(email="ana@example.com").customer

        with pytest.raises(ValidationError):
            comment_add(customer=customer, author=UserFactory(role=Role.CUSTOMER), body="Hi")


class TestOrders:
    def test_order_from_any_channel_lands_on_the_one_record(self) -> None:
        product = ProductFactory(price=Decimal("20.00"))
        store = StoreFactory()

        web = order_record(
            identity=Identity(email="ana@example.com", phone="415 555 0100"),
            channel=Channel.WEB,
            lines=[LineInput(sku=product.sku, quantity=2)],
            shipping=Decimal("4.95"),
        )
        sale = order_record(
            identity=Identity(phone="(415) 555-0100"),
            channel=Channel.STORE,
            store=store,
            lines=[LineInput(sku=product.sku, quantity=1, unit_price=Decimal("15.00"))],
        )

        assert web.customer == sale.customer
        assert web.number.startswith("W") and sale.number.startswith("S")
        assert (web.subtotal, web.total) == (Decimal("40.00"), Decimal("44.95"))
        assert sale.total == Decimal("15.00") and sale.status == "completed"
        kinds = list(
            Activity.objects.filter(customer=web.customer, kind="order_placed").values_list(
                "channel", "subject_id"
            )
        )
        assert sorted(kinds) == sorted([("web", web.number), ("store", sale.number)])

    def test_tax_is_part_of_the_total_and_till_sales_are_carried_out(self) -> None:
        product = ProductFactory(price=Decimal("20.00"))

        order = order_record(
            identity=Identity(phone="415 555 0100"),
            channel=Channel.STORE,
            store=StoreFactory(),
            lines=[LineInput(sku=product.sku, quantity=1)],
            tax=Decimal("1.75"),
        )

        assert (order.tax, order.total, order.fulfilment) == (
            Decimal("1.75"),
            Decimal("21.75"),
            "carry_out",
        )
        with pytest.raises(ValidationError, match="Tax cannot be negative"):
            order_record(
                identity=Identity(phone="415 555 0100"),
                channel=Channel.WEB,
                lines=[LineInput(sku=product.sku, quantity=1)],
                tax=Decimal("-1"),
            )

    def test_resent_external_id_is_stored_once(self) -> None:
        product = ProductFactory()
        kwargs = {
            "identity": Identity(email="ana@example.com"),
            "channel": Channel.WEB,
            "lines": [LineInput(sku=product.sku, quantity=1)],
            "external_source": "webshop",
            "external_id": "10001",
        }

        first = order_record(**kwargs)
        again = order_record(**kwargs)

        assert first == again
        assert Order.objects.count() == 1
        assert Activity.objects.filter(kind="order_placed").count() == 1

    def test_bad_orders_are_refused_and_store_nothing(self) -> None:
        product = ProductFactory()

        with pytest.raises(ValidationError) as error:
            order_record(
                identity=Identity(email="ana@example.com"),
                channel=Channel.STORE,
                lines=[LineInput(sku=product.sku, quantity=0), LineInput(sku="NOPE", quantity=1)],
            )

        assert {"store", "lines"} <= set(error.value.message_dict)
        assert not Order.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_of_one_new_person_make_one_customer() -> None:
    barrier = Barrier(6)

    def intake(n: int) -> int:
        try:
            barrier.wait()
            identity = Identity(email="New.Person@example.com", phone=f"415 555 01{n:02d}")
            return customer_resolve(identity=identity, source=Channel.WEB).customer.pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(intake, range(6)))

    assert len(ids) == 1
    assert Customer.objects.count() == 1
    assert ContactPoint.objects.filter(kind=ContactKind.PHONE).count() == 6


@pytest.mark.django_db
def test_a_name_learned_later_is_compared_too(django_capture_on_commit_callbacks) -> None:
    known = customer_resolve(
        identity=Identity(
            email="a@example.com", first_name="Li", last_name="Wei", postcode="94110"
        ),
        source=Channel.WEB,
    ).customer
    nameless = customer_resolve(identity=Identity(phone="415 555 0177"), source=Channel.STORE)

    with django_capture_on_commit_callbacks(execute=True):
        customer_resolve(
            identity=Identity(
                phone="415 555 0177", first_name="Li", last_name="Wei", postcode="94110"
            ),
            source=Channel.STORE,
        )

    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.customer_a, suggestion.customer_b} == {known, nameless.customer}
