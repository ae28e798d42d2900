"""The supervisors' routing rules pages: who may use them, editing in order, the preview, the
audit log and the query budgets."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import AuditEntry, Channel, Role, User
from customers.models import Customer
from stores.models import Store
from tests.factories import CustomerFactory, QueueFactory, StoreFactory, UserFactory, store_staff
from tickets.models import (
    Assignment,
    Inquiry,
    Message,
    MessageKind,
    Priority,
    Queue,
    RoutingRule,
    ValueTier,
)

pytestmark = pytest.mark.django_db


def new_queue(**fields: object) -> Queue:
    queue: Queue = QueueFactory(**fields)
    return queue


def new_store(**fields: object) -> Store:
    store: Store = StoreFactory(**fields)
    return store


def new_user(**fields: object) -> User:
    user: User = UserFactory(**fields)
    return user


def new_customer() -> Customer:
    customer: Customer = CustomerFactory()
    return customer


RULES = reverse("tickets:rules")
CREATE = reverse("tickets:rule_create")


def client_as(role: str) -> Client:
    client = Client()
    client.force_login(new_user(role=role))
    return client


@pytest.fixture
def supervisor() -> Client:
    return client_as(Role.SUPERVISOR)


@pytest.fixture
def returns():
    return new_queue(name="Returns desk")


def make_rule(name: str, queue, **fields) -> RoutingRule:
    fields.setdefault("position", RoutingRule.objects.count() + 1)
    return RoutingRule.objects.create(name=name, queue=queue, **fields)


def form_data(team, **fields) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Returns desk",
        "enabled": "on",
        "channels": [Channel.WEB_FORM, Channel.EMAIL],
        "keywords": "refund\n return \n\n",
        "has_open_pickup": "",
        "has_recent_return": "yes",
        "high_maintenance": "no",
        "value_tiers": [],
        "order_statuses": [],
        "store": "",
        "queue": team.pk,
        "priority": Priority.HIGH,
        "assignment": Assignment.ROUND_ROBIN,
        "tags": "returns, web ,returns",
        "action": "save",
    }
    data.update(fields)
    return data


class TestAccess:
    @pytest.mark.parametrize("role", [Role.REP, Role.CUSTOMER])
    def test_reps_and_customers_may_not(self, role, returns):
        rule = make_rule("Returns", returns)
        client = client_as(role)
        assert client.get(RULES).status_code == 403
        assert client.get(reverse("tickets:rule_edit", args=[rule.pk])).status_code == 403
        assert client.post(CREATE, form_data(returns)).status_code == 403
        move = reverse("tickets:rule_move", args=[rule.pk])
        assert client.post(move, {"direction": "down"}).status_code == 403
        assert RoutingRule.objects.count() == 1

    def test_store_managers_may_not(self, returns):
        client = Client()
        client.force_login(store_staff(new_store()))
        assert client.get(RULES).status_code == 403

    def test_anonymous_users_are_sent_to_sign_in(self):
        response = Client().get(RULES)
        assert response.status_code == 302
        assert "login" in response["Location"]

    @pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
    def test_supervisors_and_admins_may(self, role):
        assert client_as(role).get(RULES).status_code == 200

    def test_an_unknown_rule_is_404(self, supervisor):
        assert supervisor.get(reverse("tickets:rule_edit", args=[999])).status_code == 404


class TestList:
    def test_empty_state_names_the_default_queue(self, supervisor):
        page = supervisor.get(RULES).content.decode()
        assert "No routing rules yet" in page
        assert "Every inquiry goes to Customer Service" in page

    def test_rules_in_order_in_words_within_a_query_budget(
        self, supervisor, returns, django_assert_max_num_queries
    ):
        store = new_store(name="Union Square")
        editor = new_user()
        for n in range(30):
            make_rule(
                f"Rule {n}",
                returns,
                keywords="refund\nreturn",
                store=store,
                value_tiers=[ValueTier.GOLD],
                updated_by=editor,
            )
        make_rule("<script>alert(1)</script>", returns, position=0, enabled=False)

        with django_assert_max_num_queries(8):
            response = supervisor.get(RULES)

        page = response.content.decode()
        assert page.index("&lt;script&gt;alert(1)&lt;/script&gt;") < page.index("Rule 0")
        assert "<script>alert(1)" not in page
        assert page.index("Rule 0") < page.index("Rule 29")
        assert "Mentions “refund”, “return”" in page
        assert "Store: Union Square" in page
        assert "Value tier: Gold" in page


class TestEditing:
    def test_a_new_rule_is_saved_last_cleaned_and_audited(self, supervisor, returns):
        make_rule("First", returns)

        response = supervisor.post(CREATE, form_data(returns))

        assert response.status_code == 302
        assert response["Location"] == RULES
        rule = RoutingRule.objects.get(name="Returns desk")
        assert rule.position == 2
        assert rule.channels == [Channel.WEB_FORM, Channel.EMAIL]
        assert rule.keywords == "refund\nreturn"
        assert (rule.has_open_pickup, rule.has_recent_return, rule.high_maintenance) == (
            None,
            True,
            False,
        )
        assert (rule.priority, rule.assignment) == (Priority.HIGH, Assignment.ROUND_ROBIN)
        assert rule.tags == ["returns", "web"]
        audit = AuditEntry.objects.get(action="routing_rule.create")
        assert audit.object_id == str(rule.pk)
        assert audit.data["keywords"] == "refund\nreturn"
        assert "Rule “Returns desk” saved." in supervisor.get(RULES).content.decode()

    def test_the_form_shows_the_rule_as_saved(self, supervisor, returns):
        rule = make_rule(
            "Pickups", returns, has_open_pickup=True, tags=["pickup", "store"], priority=3
        )

        page = supervisor.get(reverse("tickets:rule_edit", args=[rule.pk])).content.decode()

        assert 'value="pickup, store"' in page
        assert '<option value="yes" selected>Yes</option>' in page
        assert '<option value="3" selected>High</option>' in page

    def test_editing_saves_the_changes_and_audits_them(self, supervisor, returns):
        rule = make_rule("Returns", returns)

        supervisor.post(
            reverse("tickets:rule_edit", args=[rule.pk]),
            form_data(returns, name="Returns and refunds", keywords="refund", enabled=""),
        )

        rule.refresh_from_db()
        assert (rule.name, rule.keywords, rule.enabled, rule.position) == (
            "Returns and refunds",
            "refund",
            False,
            1,
        )
        assert AuditEntry.objects.filter(
            action="routing_rule.update", object_id=str(rule.pk)
        ).exists()

    def test_mistakes_are_explained_and_nothing_is_saved(self, supervisor, returns):
        response = supervisor.post(
            CREATE,
            form_data(
                returns,
                name="",
                queue="",
                tags=",".join(f"t{n}" for n in range(11)),
                keywords="x" * 101,
            ),
        )

        assert response.status_code == 400
        page = response.content.decode()
        assert "Give the rule a name." in page
        assert "Choose the queue to send matching inquiries to." in page
        assert "At most 10 tags." in page
        assert "is longer than 100 characters" in page
        assert 'aria-invalid="true"' in page
        assert not RoutingRule.objects.exists()

    def test_moving_and_toggling_through_htmx_returns_the_table(self, supervisor, returns):
        first, second, third = (make_rule(name, returns) for name in ["A", "B", "C"])

        response = supervisor.post(
            reverse("tickets:rule_move", args=[third.pk]),
            {"direction": "up"},
            HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 200
        assert 'id="rules-table"' in response.content.decode()
        assert list(RoutingRule.objects.values_list("name", flat=True)) == ["A", "C", "B"]
        supervisor.post(reverse("tickets:rule_move", args=[first.pk]), {"direction": "up"})
        assert list(RoutingRule.objects.values_list("name", flat=True)) == ["A", "C", "B"]

        supervisor.post(
            reverse("tickets:rule_toggle", args=[second.pk]),
            {"enabled": "false"},
            HTTP_HX_REQUEST="true",
        )
        second.refresh_from_db()
        assert not second.enabled
        actions = list(AuditEntry.objects.values_list("action", flat=True))
        assert sorted(actions) == ["routing_rule.disable", "routing_rule.move"]

    def test_a_rule_can_be_deleted_and_its_inquiries_keep_their_queue(self, supervisor, returns):
        rule = make_rule("Old", returns)
        inquiry = Inquiry.objects.create(
            channel=Channel.EMAIL, subject="Hi", queue=returns, routed_by_rule=rule
        )

        response = supervisor.post(reverse("tickets:rule_delete", args=[rule.pk]))

        assert response.status_code == 302
        assert not RoutingRule.objects.exists()
        inquiry.refresh_from_db()
        assert (inquiry.queue, inquiry.routed_by_rule) == (returns, None)
        assert AuditEntry.objects.filter(action="routing_rule.delete").exists()


def latest_inquiries(count: int, *, matching_every: int, rule: RoutingRule | None) -> None:
    """`count` inquiries, every `matching_every`-th one about a refund, routed by `rule`."""
    customers = [new_customer() for _ in range(5)]
    inquiries = Inquiry.objects.bulk_create(
        Inquiry(
            channel=Channel.EMAIL if n % 2 else Channel.WEB_FORM,
            subject=f"Question {n}",
            customer=customers[n % 5],
            routed_by_rule=rule if n % matching_every == 0 else None,
            queue=rule.queue if rule and n % matching_every == 0 else None,
        )
        for n in range(count)
    )
    Message.objects.bulk_create(
        Message(
            inquiry=inquiry,
            kind=MessageKind.INBOUND,
            channel=inquiry.channel,
            text="I want a Refund." if n % matching_every == 0 else "Where is my parcel?",
        )
        for n, inquiry in enumerate(inquiries)
    )


class TestPreview:
    def test_preview_shows_what_would_match_and_how_it_was_routed_without_saving(
        self, supervisor, returns, django_assert_max_num_queries
    ):
        current = make_rule("Refunds (old)", returns)
        latest_inquiries(230, matching_every=10, rule=current)

        with django_assert_max_num_queries(9):
            response = supervisor.post(
                CREATE,
                form_data(
                    returns,
                    channels=[],
                    keywords="refund",
                    has_recent_return="no",
                    high_maintenance="",
                    action="preview",
                ),
                HTTP_HX_REQUEST="true",
            )

        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="rule-preview"' in page
        assert "<html" not in page
        # 230 inquiries, the last 200 examined: every tenth mentions a refund.
        assert "Would match 20 of the last 200 inquiries." in page
        assert page.count("subject or body mentions &#x27;refund&#x27;") == 20
        assert page.count("Refunds (old) → Returns desk") == 20
        assert RoutingRule.objects.count() == 1
        assert not AuditEntry.objects.exists()

    def test_preview_without_htmx_renders_the_form_with_the_preview(self, supervisor, returns):
        latest_inquiries(10, matching_every=5, rule=None)

        response = supervisor.post(
            CREATE,
            form_data(
                returns, channels=[], high_maintenance="", has_recent_return="", action="preview"
            ),
        )

        page = response.content.decode()
        assert response.status_code == 200
        assert 'id="rule-form"' in page
        assert "Would match 2 of the last 10 inquiries." in page
        assert page.count("Not routed yet") == 2

    def test_a_preview_of_a_broken_rule_says_what_to_correct(self, supervisor, returns):
        response = supervisor.post(
            CREATE, form_data(returns, queue="", action="preview"), HTTP_HX_REQUEST="true"
        )

        page = response.content.decode()
        assert "Correct the rule to preview it" in page
        assert "Send to queue: Choose the queue to send matching inquiries to." in page
