"""The pickup counter: who may see and act on it, what its actions do, and its query budget."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Role
from customers.models import Customer
from orders.models import Order, Pickup, PickupStatus
from orders.services import pickup_set_status
from stores.models import StoreRole
from tests.factories import UserFactory, store_staff
from tests.stores.pickup_fixtures import place_pickup, stocked_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def union():
    return stocked_store(units=200)


@pytest.fixture
def mission():
    return stocked_store("Mission", "sf-mission", units=5)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counter(store, **query: str) -> str:
    url = reverse("stores:pickups", args=[store.code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def act(store, pickup: Pickup, action: str) -> str:
    return reverse("stores:pickup_action", args=[store.code, pickup.pk, action])


def test_the_counter_lists_the_store_pickups_oldest_first_with_customer(union) -> None:
    first, second = place_pickup(union), place_pickup(union, email="bo@example.com")
    clerk = store_staff(union, StoreRole.ASSOCIATE)

    response = signed_in(clerk).get(counter(union))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(first.order.number) < html.index(second.order.number)
    assert "Ann Lee" in html
    assert 'Store <span class="badge' in html


def test_a_row_shows_the_store_times_the_amount_and_user_text_as_text(union) -> None:
    pickup = place_pickup(union)
    pickup_set_status(pickup=pickup, to=PickupStatus.PREPARING, actor=None)
    pickup_set_status(pickup=pickup, to=PickupStatus.READY, actor=None)
    Pickup.objects.filter(pk=pickup.pk).update(
        created_at=datetime(2026, 3, 2, 17, 5, tzinfo=UTC),
        hold_until=datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
        wrong_code_attempts=2,
    )
    Order.objects.filter(pk=pickup.order_id).update(total=Decimal("1234.5"))
    Customer.objects.filter(pk=pickup.order.customer_id).update(first_name="<b>Ann</b>")
    # The clerk's own zone is another: the counter shows the store's times.
    clerk = store_staff(union, StoreRole.ASSOCIATE, time_zone="Europe/Berlin")

    html = signed_in(clerk).get(counter(union, state="ready")).content.decode()
    row = html[html.index(f'<tr id="pickup-{pickup.pk}"') :].split("</tr>")[0]

    assert '<span title="Mar 2, 2026, 9:05 AM PST">' in row
    assert "Hold until Sun Mar 8, 9:00 PM</div>" in row
    assert f"{pickup.order.currency} 1,234.50</div>" in row
    assert "2 wrong codes</div>" in row
    assert "&lt;b&gt;Ann&lt;/b&gt; Lee</a>" in row and "<b>Ann</b>" not in html
    assert f'action="{act(union, pickup, "collect")}"' in row
    assert f'action="{act(union, pickup, "cancel")}"' in row
    assert row.count('name="csrfmiddlewaretoken"') == 2


def test_an_empty_tab_says_so(union) -> None:
    clerk = store_staff(union, StoreRole.ASSOCIATE)

    response = signed_in(clerk).get(counter(union, state="ready"))

    assert "No pickups waiting for their customers" in response.content.decode()


def test_an_associate_of_another_store_gets_404_and_cannot_act(union, mission) -> None:
    pickup = place_pickup(mission)
    client = signed_in(store_staff(union, StoreRole.ASSOCIATE))

    assert client.get(counter(mission)).status_code == 404
    assert client.post(act(mission, pickup, "prepare")).status_code == 404
    # Nor through her own store's address.
    assert client.post(act(union, pickup, "prepare")).status_code == 404
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.PLACED


def test_a_customer_gets_403_and_anonymous_goes_to_login(union) -> None:
    customer = UserFactory.create(role=Role.CUSTOMER)

    assert signed_in(customer).get(counter(union)).status_code == 403
    response = Client().get(counter(union))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_post_without_csrf_token_is_refused(union) -> None:
    pickup = place_pickup(union)
    client = Client(enforce_csrf_checks=True)
    client.force_login(store_staff(union, StoreRole.ASSOCIATE))

    assert client.post(act(union, pickup, "prepare")).status_code == 403


def test_actions_move_the_pickup_and_htmx_swaps_the_row(union) -> None:
    pickup = place_pickup(union)
    client = signed_in(store_staff(union, StoreRole.ASSOCIATE))

    response = client.post(act(union, pickup, "prepare"))
    assert response.status_code == 302
    response = client.post(act(union, pickup, "ready"), HTTP_HX_REQUEST="true")

    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.READY
    html = response.content.decode()
    assert html.startswith(f'<tr id="pickup-{pickup.pk}"')
    assert "e-mailed the pickup code" in html

    response = client.post(
        act(union, pickup, "collect"), {"code": "WRONG1"}, HTTP_HX_REQUEST="true"
    )
    assert "That pickup code is wrong" in response.content.decode()
    response = client.post(act(union, pickup, "collect"), {"code": pickup.code})
    assert response.status_code == 302
    pickup.refresh_from_db()
    assert (pickup.status, pickup.wrong_code_attempts) == (PickupStatus.COLLECTED, 1)


def test_an_illegal_action_shows_a_clear_message(union) -> None:
    pickup = place_pickup(union)
    client = signed_in(store_staff(union, StoreRole.ASSOCIATE))

    response = client.post(act(union, pickup, "ready"), follow=True)

    assert "cannot be marked ready" in response.content.decode()


def test_a_supervisor_picks_a_store_and_one_store_opens_directly(union, mission) -> None:
    supervisor = UserFactory.create(role=Role.SUPERVISOR)
    clerk = store_staff(union, StoreRole.ASSOCIATE)

    html = signed_in(supervisor).get(reverse("stores:index")).content.decode()
    assert all(reverse("stores:dashboard", args=[s.code]) in html for s in (union, mission))
    assert signed_in(supervisor).get(counter(mission)).status_code == 200
    assert signed_in(clerk).get(reverse("stores:index"))["Location"] == reverse(
        "stores:dashboard", args=[union.code]
    )


@pytest.mark.parametrize("pickups", [3, 60])
def test_the_counter_query_budget_does_not_grow(
    union, pickups, django_assert_max_num_queries
) -> None:
    for n in range(pickups):
        pickup = place_pickup(union, quantity=1, email=f"c{n}@example.com")
        if n % 3 == 0:
            pickup_set_status(pickup=pickup, to=PickupStatus.PREPARING, actor=None)
    client = signed_in(store_staff(union, StoreRole.ASSOCIATE))

    for state in ("to_prepare", "preparing", "done"):
        with django_assert_max_num_queries(10):
            assert client.get(counter(union, state=state)).status_code == 200
