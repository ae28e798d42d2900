"""The customers endpoints of the REST API: identity resolution, reads, search, the timeline,
merges and bulk upserts, with their validation, scopes and query budgets."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Channel, Role, Scope, User
from customers.models import Activity, ActivityKind, ContactPoint, Customer
from customers.services import Identity, activity_record, customer_resolve
from tests.api.conftest import ClientFactory, TokenFactory
from tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api:customer-list")
BULK = reverse("api:customer-bulk")


def detail(pk: int) -> str:
    return reverse("api:customer-detail", args=[pk])


def timeline(pk: int) -> str:
    return reverse("api:customer-timeline", args=[pk])


def merge(pk: int) -> str:
    return reverse("api:customer-merge", args=[pk])


def make_customer(email: str, **fields: Any) -> Customer:
    return customer_resolve(identity=Identity(email=email, **fields), source=Channel.WEB).customer


def queries_of(request: Callable[[], Any]) -> int:
    """How many queries a request makes once its token's last use is recorded (a warm-up
    request first: last_used_at is written at most once a minute)."""
    assert request().status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert request().status_code == 200
    return len(captured.captured_queries)


def snapshot() -> tuple[int, int, int]:
    return Customer.objects.count(), ContactPoint.objects.count(), Activity.objects.count()


@pytest.fixture
def writer(token_factory: TokenFactory, api_client: ClientFactory) -> Any:
    _, raw = token_factory(
        scopes=[Scope.CUSTOMERS_READ, Scope.CUSTOMERS_WRITE], channels=[Channel.WEB]
    )
    return api_client(raw)


@pytest.fixture
def reader(token_factory: TokenFactory, api_client: ClientFactory) -> Any:
    _, raw = token_factory(scopes=[Scope.CUSTOMERS_READ], channels=[Channel.WEB])
    return api_client(raw)


class TestCreate:
    def test_new_customer_is_201_and_the_same_identity_again_is_200(self, writer: Any) -> None:
        body = {
            "channel": "web",
            "email": "Maria.Keller@Example.com",
            "external_ids": {"webshop": "88123"},
            "first_name": "Maria",
            "last_name": "Keller",
            "country": "de",
        }
        first = writer.post(LIST, body, format="json")
        assert first.status_code == 201, first.json()
        customer = first.json()["customer"]
        assert first.json()["created"] is True
        assert customer["full_name"] == "Maria Keller"
        assert customer["country"] == "DE"
        assert {(p["kind"], p["value"]) for p in customer["contact_points"]} == {
            ("email", "maria.keller@example.com"),
            ("external", "webshop:88123"),
        }

        again = writer.post(
            LIST,
            {"channel": "web", "external_ids": {"webshop": "88123"}, "phone": "+1 415 555 0134"},
            format="json",
        )
        assert again.status_code == 200
        assert again.json()["created"] is False
        assert again.json()["customer"]["id"] == customer["id"]
        assert Customer.objects.count() == 1
        assert ContactPoint.objects.filter(kind="phone").count() == 1

    def test_idempotent_replay_returns_the_same_body(self, writer: Any) -> None:
        body = {"channel": "web", "email": "replay@example.com", "first_name": "Ria"}
        first = writer.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        replay = writer.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == replay.status_code == 201
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
        assert Customer.objects.count() == 1
        other = writer.post(
            LIST, {**body, "first_name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert other.status_code == 422

    def test_home_store_by_code(self, token_factory: TokenFactory, api_client: Any) -> None:
        store = StoreFactory.create(code="st01")
        _, raw = token_factory(
            scopes=[Scope.CUSTOMERS_WRITE], channels=[Channel.STORE], stores=[store]
        )
        response = api_client(raw).post(
            LIST, {"channel": "store", "phone": "+1 415 555 0100", "store": "st01"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["customer"]["home_store"] == "st01"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"channel": "web", "email": "a@example.com", "nickname": "x"}, "nickname"),
            ({"channel": "web", "email": ["a@example.com"]}, "email"),
            ({"channel": "web", "email": "a@example.com", "first_name": "x" * 101}, "first_name"),
            ({"channel": "web", "email": "a@example.com", "external_ids": "88123"}, "external_ids"),
            ({"channel": "web", "email": "a@example.com", "store": "nowhere"}, "store"),
            ({"channel": "web", "email": "not an address"}, "email"),
            ({"channel": "carrier-pigeon", "email": "a@example.com"}, "channel"),
            ({"email": "a@example.com"}, "channel"),
            ({"channel": "web", "first_name": "Nobody"}, "non_field_errors"),
        ],
    )
    def test_invalid_input_is_a_400_with_field_messages_and_nothing_stored(
        self, writer: Any, body: dict[str, Any], field: str
    ) -> None:
        before = snapshot()
        response = writer.post(LIST, body, format="json")
        assert response.status_code == 400, response.json()
        error = response.json()["error"]
        assert error["status"] == 400
        assert field in error["fields"], error
        assert snapshot() == before

    def test_a_token_writes_only_in_its_channels_and_stores(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        own, other = StoreFactory.create(code="st01"), StoreFactory.create(code="st02")
        _, raw = token_factory(
            scopes=[Scope.CUSTOMERS_WRITE], channels=[Channel.STORE], stores=[own]
        )
        client = api_client(raw)
        wrong_channel = client.post(LIST, {"channel": "web", "email": "a@x.com"}, format="json")
        wrong_store = client.post(
            LIST, {"channel": "store", "email": "a@x.com", "store": other.code}, format="json"
        )
        assert wrong_channel.status_code == wrong_store.status_code == 403
        assert Customer.objects.count() == 0


class TestPermissions:
    def test_read_only_token_cannot_write(self, reader: Any) -> None:
        response = reader.post(LIST, {"channel": "web", "email": "a@x.com"}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert Customer.objects.count() == 0

    def test_no_token_is_401(self, api_client: ClientFactory) -> None:
        assert api_client().get(LIST, {"q": "maria"}).status_code == 401
        assert api_client("crm_nope_nope").get(LIST, {"q": "maria"}).status_code == 401

    def test_a_customer_account_gets_nothing(self, api_client: ClientFactory) -> None:
        user = UserFactory.create(role=Role.CUSTOMER)
        client = api_client(user=user)
        assert client.get(LIST, {"q": "maria"}).status_code == 403
        assert client.post(LIST, {"email": "a@x.com"}, format="json").status_code == 403

    def test_a_rep_reads_and_writes_with_her_session(self, api_client: ClientFactory) -> None:
        client = api_client(user=UserFactory.create(role=Role.REP))
        created = client.post(LIST, {"email": "rep-made@example.com"}, format="json")
        assert created.status_code == 201
        assert created.json()["customer"]["contact_points"][0]["source"] == "system"
        pk = created.json()["customer"]["id"]
        assert client.get(detail(pk)).status_code == 200


class TestDetail:
    def test_detail(self, reader: Any) -> None:
        customer = make_customer("maria@example.com", first_name="Maria")
        response = reader.get(detail(customer.pk))
        assert response.status_code == 200
        assert response.json()["id"] == customer.pk
        assert response.json()["merged_into"] is None

    @pytest.mark.parametrize("pk", ["999999", "-5", "9" * 40])
    def test_unknown_id_is_a_json_404(
        self, token_factory: TokenFactory, api_client: ClientFactory, pk: str
    ) -> None:
        reader = api_client(token_factory(scopes=[Scope.CUSTOMERS_READ, Scope.INQUIRIES_READ])[1])
        for url in (f"{LIST}{pk}/", f"{LIST}{pk}/timeline/", f"{LIST}{pk}/inquiries/"):
            response = reader.get(url)
            assert response.status_code == 404
            assert response.json()["error"]["status"] == 404

    def test_a_merged_id_answers_with_the_survivor(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        survivor = make_customer("a@example.com", first_name="Ana")
        merged = make_customer("b@example.com", first_name="Ana")
        supervisor = UserFactory.create(role=Role.SUPERVISOR)
        _, raw = token_factory(
            scopes=[Scope.CUSTOMERS_READ, Scope.CUSTOMERS_MERGE], actor=supervisor
        )
        client = api_client(raw)
        assert client.post(merge(survivor.pk), {"merged": merged.pk}, format="json").status_code
        response = client.get(detail(merged.pk))
        assert response.status_code == 200
        assert response.json()["id"] == survivor.pk
        assert response.json()["merged_into"] == survivor.pk

    def test_query_budget(self, reader: Any) -> None:
        customer = make_customer("budget@example.com")

        def add(first: int, last: int) -> None:
            for n in range(first, last):
                ContactPoint.objects.create(customer=customer, kind="external", value=f"s:{n}")

        def read() -> Any:
            return reader.get(detail(customer.pk))

        add(0, 2)
        few = queries_of(read)
        add(2, 20)
        many = queries_of(read)
        assert few == many <= 4
        assert len(read().json()["contact_points"]) == 21


class TestSearch:
    def test_by_email_and_by_name(self, reader: Any) -> None:
        maria = make_customer("maria@example.com", first_name="Maria", last_name="Keller")
        make_customer("jan@example.com", first_name="Jan", last_name="Keller")
        by_email = reader.get(LIST, {"q": "MARIA@example.com"}).json()
        assert by_email["matched_by"] == "email"
        assert [c["id"] for c in by_email["results"]] == [maria.pk]
        by_name = reader.get(LIST, {"q": "keller"}).json()
        assert by_name["matched_by"] == "name"
        assert len(by_name["results"]) == 2
        assert by_name["next"] is None

    def test_name_search_pages(self, reader: Any) -> None:
        for n in range(27):
            make_customer(f"k{n}@example.com", first_name=f"Kim{n}", last_name="Lee")
        first = reader.get(LIST, {"q": "lee"}).json()
        assert len(first["results"]) == 25
        assert "page=2" in first["next"]
        second = reader.get(first["next"]).json()
        assert len(second["results"]) == 2
        assert second["page"] == 2

    def test_q_is_required_and_bounded(self, reader: Any) -> None:
        assert "q" in reader.get(LIST).json()["error"]["fields"]
        assert reader.get(LIST, {"q": "x" * 201}).status_code == 400
        assert reader.get(LIST, {"q": "lee", "sort": "name"}).status_code == 400

    def test_query_budget(self, reader: Any) -> None:
        def add(first: int, last: int) -> None:
            for n in range(first, last):
                make_customer(f"q{n}@example.com", first_name=f"Kim{n}", last_name="Lee")

        def search() -> Any:
            return reader.get(LIST, {"q": "lee"})

        add(0, 2)
        few = queries_of(search)
        add(2, 20)
        many = queries_of(search)
        assert few == many <= 5
        assert len(search().json()["results"]) == 20


class TestTimeline:
    def test_pages_by_cursor_and_filters(self, reader: Any) -> None:
        customer = make_customer("t@example.com")
        for n in range(30):
            activity_record(
                customer=customer,
                kind=ActivityKind.ORDER_PLACED if n % 2 else ActivityKind.CALL_LOGGED,
                channel=Channel.WEB if n % 2 else Channel.PHONE,
                summary=f"Entry {n}",
            )
        first = reader.get(timeline(customer.pk), {"page_size": 20}).json()
        assert len(first["results"]) == 20
        assert first["next_cursor"]
        second = reader.get(first["next"]).json()
        seen = [a["id"] for a in first["results"] + second["results"]]
        assert len(seen) == len(set(seen)) == 30
        assert second["next"] is None
        phone = reader.get(timeline(customer.pk), {"channel": "phone"}).json()
        assert {a["channel"] for a in phone["results"]} == {"phone"}
        assert len(phone["results"]) == 15
        calls = reader.get(timeline(customer.pk), {"kind": "order_placed"}).json()
        assert len(calls["results"]) == 15

    def test_unknown_filters_are_refused(self, reader: Any) -> None:
        customer = make_customer("t@example.com")
        assert reader.get(timeline(customer.pk), {"channel": "fax"}).status_code == 400
        assert reader.get(timeline(customer.pk), {"kind": "x"}).status_code == 400
        assert reader.get(timeline(customer.pk), {"order": "x"}).status_code == 400
        assert reader.get(timeline(customer.pk), {"cursor": "yesterday"}).status_code == 400
        assert reader.get(timeline(999999)).status_code == 404

    def test_query_budget(self, reader: Any) -> None:
        customer = make_customer("t@example.com")
        actor = UserFactory.create(role=Role.REP)
        store = StoreFactory.create()

        def add(count: int) -> None:
            for n in range(count):
                activity_record(
                    customer=customer,
                    kind=ActivityKind.CALL_LOGGED,
                    channel=Channel.PHONE,
                    summary=f"Call {n}",
                    actor=actor,
                    store=store,
                )

        def read() -> Any:
            return reader.get(timeline(customer.pk))

        add(2)
        few = queries_of(read)
        add(18)
        many = queries_of(read)
        assert few == many <= 4
        assert len(read().json()["results"]) == 20


class TestMerge:
    def test_a_token_without_the_merge_scope_cannot_merge(self, writer: Any) -> None:
        a, b = make_customer("a@example.com"), make_customer("b@example.com")
        response = writer.post(merge(a.pk), {"merged": b.pk}, format="json")
        assert response.status_code == 403
        assert Customer.objects.filter(merged_into__isnull=False).count() == 0

    def test_a_rep_cannot_merge_a_supervisor_can(self, api_client: ClientFactory) -> None:
        a, b = make_customer("a@example.com"), make_customer("b@example.com")
        rep = api_client(user=UserFactory.create(role=Role.REP))
        assert rep.post(merge(a.pk), {"merged": b.pk}, format="json").status_code == 403
        supervisor = api_client(user=UserFactory.create(role=Role.SUPERVISOR))
        response = supervisor.post(merge(a.pk), {"merged": b.pk}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["merged"] == b.pk
        values = {p["value"] for p in response.json()["customer"]["contact_points"]}
        assert values == {"a@example.com", "b@example.com"}
        b.refresh_from_db()
        assert b.merged_into_id == a.pk
        again = supervisor.post(merge(a.pk), {"merged": b.pk}, format="json")
        assert again.status_code == 400

    def test_a_merge_token_records_its_maker(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        a, b = make_customer("a@example.com"), make_customer("b@example.com")
        # The default maker of the tests' tokens is an admin, who may merge.
        _, raw = token_factory(scopes=[Scope.CUSTOMERS_MERGE])
        response = api_client(raw).post(merge(a.pk), {"merged": b.pk}, format="json")
        assert response.status_code == 200
        entry = Activity.objects.get(kind=ActivityKind.CUSTOMERS_MERGED)
        assert entry.actor is not None and entry.actor.email == "token-admin@example.com"

    def test_a_token_made_by_a_rep_cannot_merge(
        self, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        a, b = make_customer("a@example.com"), make_customer("b@example.com")
        rep: User = UserFactory.create(role=Role.REP)
        _, raw = token_factory(scopes=[Scope.CUSTOMERS_MERGE], actor=rep)
        response = api_client(raw).post(merge(a.pk), {"merged": b.pk}, format="json")
        assert response.status_code == 403

    def test_invalid_merge_requests(self, api_client: ClientFactory) -> None:
        a = make_customer("a@example.com")
        client = api_client(user=UserFactory.create(role=Role.SUPERVISOR))
        unknown = client.post(merge(a.pk), {"merged": 999999}, format="json")
        assert "merged" in unknown.json()["error"]["fields"]
        itself = client.post(merge(a.pk), {"merged": a.pk}, format="json")
        assert itself.status_code == 400
        wrong_type = client.post(merge(a.pk), {"merged": "b"}, format="json")
        assert "merged" in wrong_type.json()["error"]["fields"]
        extra = client.post(merge(a.pk), {"merged": a.pk, "why": "x"}, format="json")
        assert "why" in extra.json()["error"]["fields"]
        assert client.post(merge(999999), {"merged": a.pk}, format="json").status_code == 404


class TestBulk:
    def test_per_item_results(self, writer: Any) -> None:
        existing = make_customer("known@example.com")
        items = [
            {"channel": "web", "email": "new@example.com"},
            {"channel": "web", "email": "known@example.com"},
            {"channel": "web", "email": "broken"},
            {"channel": "store", "email": "store@example.com"},
            {"channel": "web", "email": "x@example.com", "extra": 1},
        ]
        response = writer.post(BULK, {"items": items}, format="json")
        assert response.status_code == 207
        results = response.json()["results"]
        assert [r["status"] for r in results] == [201, 200, 400, 403, 400]
        assert results[1]["data"]["customer"]["id"] == existing.pk
        assert "email" in results[2]["error"]["fields"]
        assert "extra" in results[4]["error"]["fields"]
        assert set(ContactPoint.objects.values_list("value", flat=True)) == {
            "known@example.com",
            "new@example.com",
        }

    def test_bulk_envelope_is_validated(self, writer: Any, reader: Any) -> None:
        assert writer.post(BULK, {"items": []}, format="json").status_code == 400
        assert writer.post(BULK, {"things": []}, format="json").status_code == 400
        assert (
            reader.post(BULK, {"items": [{"email": "a@x.com"}]}, format="json").status_code == 403
        )
