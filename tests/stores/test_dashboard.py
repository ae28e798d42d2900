"""The store manager's dashboard: what needs attention at the store, for its staff only."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Role
from orders.models import ItemCondition, Pickup, PickupStatus, ReturnReason
from orders.services import pickup_set_status
from orders.services.returns import return_create
from stores.models import StoreRole
from tests.factories import UserFactory, store_staff
from tests.stores.pickup_fixtures import place_pickup, stocked_store

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dashboard(store) -> str:
    return reverse("stores:dashboard", args=[store.code])


def test_the_dashboard_shows_waiting_pickups_expiring_holds_returns_and_stock_alerts() -> None:
    union = stocked_store(units=5)
    manager = store_staff(union, StoreRole.MANAGER)
    old = place_pickup(union, quantity=1)
    Pickup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=5))
    ready = place_pickup(union, quantity=3, email="bo@example.com")
    pickup_set_status(pickup=ready, to=PickupStatus.PREPARING, actor=manager)
    pickup_set_status(pickup=ready, to=PickupStatus.READY, actor=manager)
    Pickup.objects.filter(pk=ready.pk).update(hold_until=timezone.now() + timedelta(hours=20))
    line = old.order.lines.get()
    return_create(
        order=old.order,
        lines=[(line, 1, ReturnReason.DAMAGED, ItemCondition.WRITE_OFF)],
        store=union,
        actor=manager,
    )

    response = signed_in(manager).get(dashboard(union))

    page = response.content.decode()
    assert response.status_code == 200
    waiting = {label: ages for label, _, ages in response.context["waiting"]}
    assert waiting["Placed"] == {"today": 0, "days_1_3": 0, "older": 1}
    assert waiting["Ready for pickup"]["today"] == 1
    assert [p.pk for p in response.context["expiring_soon"]] == [ready.pk]
    assert response.context["returns_by_reason"] == [("Damaged or faulty", 1)]
    # 5 received, 4 reserved by the two pickups: 1 left to sell
    assert [(s.product.sku, s.left) for s in response.context["stock_alerts"]] == [("JKT-RAIN", 1)]
    assert "Bo" in page or ready.order.number in page


def test_an_empty_store_says_so() -> None:
    union = stocked_store()

    page = signed_in(store_staff(union, StoreRole.ASSOCIATE)).get(dashboard(union))

    html = page.content.decode()
    assert "Nothing expires in the next two days." in html
    assert "No returns yet today." in html


def test_only_the_stores_own_staff_and_supervisors_see_it() -> None:
    union, mission = stocked_store(), stocked_store("Mission", "sf-mission")
    clerk = store_staff(mission, StoreRole.ASSOCIATE)

    assert signed_in(clerk).get(dashboard(union)).status_code == 404
    assert signed_in(UserFactory(role=Role.CUSTOMER)).get(dashboard(union)).status_code == 403
    assert signed_in(UserFactory(role=Role.REP)).get(dashboard(union)).status_code == 404
    assert signed_in(UserFactory(role=Role.SUPERVISOR)).get(dashboard(union)).status_code == 200
    assert Client().get(dashboard(union)).status_code == 302


@pytest.mark.parametrize("pickups", [2, 30])
def test_the_query_budget_does_not_grow(pickups, django_assert_max_num_queries) -> None:
    union = stocked_store(units=100)
    manager = store_staff(union, StoreRole.MANAGER)
    for n in range(pickups):
        pickup = place_pickup(union, quantity=1, email=f"c{n}@example.com")
        pickup_set_status(pickup=pickup, to=PickupStatus.PREPARING, actor=manager)
        pickup_set_status(pickup=pickup, to=PickupStatus.READY, actor=manager)
    client = signed_in(manager)

    with django_assert_max_num_queries(12):
        response = client.get(dashboard(union))

    assert len(response.context["expiring_soon"]) == 0
