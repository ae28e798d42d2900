import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, Role, User
from customers.models import (
    Activity,
    ActivityKind,
    Comment,
    ContactKind,
    Customer,
    MergeSuggestion,
)
from customers.selectors import customer_search
from customers.services import Identity, comment_add, customer_merge, customer_resolve
from orders.models import Order
from orders.services import LineInput, order_record
from tests.factories import (
    PASSWORD,
    ContactPointFactory,
    CustomerFactory,
    ProductFactory,
    StoreFactory,
    UserFactory,
    store_staff,
    web_inquiry,
)
from tickets.models import Inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(name="Union Square")


@pytest.fixture
def ana(store):
    """A customer who bought online and in a store, known by e-mail, phone and loyalty card."""
    product = ProductFactory(sku="TEE-001", name="Linen tee", price=Decimal("30.00"))
    order_record(
        identity=Identity(email="ana.lopez@example.com", first_name="Ana", last_name="López"),
        channel=Channel.WEB,
        lines=[LineInput(sku=product.sku, quantity=2)],
        number="W200001",
    )
    order_record(
        identity=Identity(
            phone="+1 415 555 0134", loyalty_number="LC-7788-01", email="ana.lopez@example.com"
        ),
        channel=Channel.STORE,
        store=store,
        lines=[LineInput(sku=product.sku, quantity=1)],
        number="S300001",
    )
    return Customer.objects.get()


def client_for(role: str, store=None) -> Client:
    user = store_staff(store, role=role) if store is not None else UserFactory(role=role)
    client = Client()
    client.force_login(user)
    return client


STAFF_ROLES = [Role.REP, Role.SUPERVISOR, Role.ADMIN]


class TestAccess:
    def pages(self, ana):
        return [
            reverse("customers:search"),
            reverse("customers:search") + "?q=ana",
            reverse("customers:detail", args=[ana.pk]),
            reverse("orders:detail", args=["W200001"]),
        ]

    def test_anonymous_is_sent_to_login(self, client, ana) -> None:
        for url in [*self.pages(ana), reverse("customers:merge_list")]:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url

    def test_customer_gets_403_on_every_staff_page(self, ana) -> None:
        user = UserFactory(role=Role.CUSTOMER)
        ana.user = user
        ana.save()
        client = Client()
        client.force_login(user)

        for url in [*self.pages(ana), reverse("customers:merge_list")]:
            assert client.get(url).status_code == 403, url
        response = client.post(reverse("customers:comment_create", args=[ana.pk]), {"body": "hi"})
        assert response.status_code == 403
        assert not Comment.objects.exists()

    @pytest.mark.parametrize("role", [*STAFF_ROLES, Role.ASSOCIATE, Role.MANAGER])
    def test_staff_reach_the_console(self, role, store, ana) -> None:
        client = client_for(role, store if role in (Role.ASSOCIATE, Role.MANAGER) else None)

        for url in self.pages(ana):
            response = client.get(url, follow=True)
            assert response.status_code == 200, url

    @pytest.mark.parametrize("role", [Role.REP, Role.ASSOCIATE, Role.MANAGER])
    def test_only_supervisors_see_merge_pages(self, role, store, ana) -> None:
        client = client_for(role, store if role != Role.REP else None)

        assert client.get(reverse("customers:merge_list")).status_code == 403
        assert b"Merge suggestions" not in client.get(reverse("customers:search")).content

    def test_nav_fits_the_role(self, store) -> None:
        supervisor = client_for(Role.SUPERVISOR).get(reverse("customers:search")).content.decode()
        manager = client_for(Role.MANAGER, store).get(reverse("customers:search")).content.decode()

        assert "Merge suggestions" in supervisor
        assert "Store manager · Union Square" in manager

    def test_unknown_ids_are_404(self) -> None:
        client = client_for(Role.REP)

        assert client.get(reverse("customers:detail", args=[999999])).status_code == 404
        assert client.get(reverse("orders:detail", args=["NOPE"])).status_code == 404

    def test_login_page_signs_staff_in_by_email(self, client) -> None:
        UserFactory(email="rep@example.com", role=Role.REP)

        response = client.post(
            reverse("account_login"),
            {"login": "REP@example.com", "password": PASSWORD},
            follow=True,
        )

        assert response.redirect_chain[-1][0] == reverse("customers:search")

    def test_customer_lands_on_her_own_orders(self, ana) -> None:
        user = UserFactory(role=Role.CUSTOMER)
        ana.user = user
        ana.save()
        client = Client()
        client.force_login(user)

        response = client.get("/", follow=True)

        assert response.redirect_chain[-1][0] == reverse("account_home")
        assert "W200001" in response.content.decode() and "S300001" in response.content.decode()


class TestSearch:
    @pytest.mark.parametrize(
        "query",
        [
            "ana.lopez@example.com",
            "ANA.LOPEZ@EXAMPLE.COM",
            "(415) 555-0134",
            "415.555.0134",
            "+1 415 555 0134",
            "lc 7788 01",
            "W200001",
            "s300001",
            "lopez",
            "ANA LÓP",
            "an lo",
        ],
    )
    def test_one_match_goes_straight_to_the_360_page(self, query, ana) -> None:
        response = client_for(Role.REP).get(reverse("customers:search"), {"q": query})

        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[ana.pk])

    def test_several_matches_are_listed(self, ana) -> None:
        customer_resolve(
            identity=Identity(email="ana.b@example.com", first_name="Ana", last_name="Berg"),
            source=Channel.WEB,
        )

        response = client_for(Role.REP).get(reverse("customers:search"), {"q": "ana"})

        assert response.status_code == 200
        assert [c.last_name for c in response.context["result"].customers] == ["Berg", "López"]

    def test_no_match_says_so(self, ana) -> None:
        response = client_for(Role.REP).get(
            reverse("customers:search"), {"q": "nobody@example.com"}
        )

        assert "No customer matches" in response.content.decode()

    def test_merged_records_are_not_found_twice(self, ana) -> None:
        twin = customer_resolve(
            identity=Identity(phone="212 555 0100", first_name="Ana", last_name="Lopez"),
            source=Channel.STORE,
        ).customer
        customer_merge(survivor=ana, merged=twin, actor=UserFactory(role=Role.SUPERVISOR))

        response = client_for(Role.REP).get(reverse("customers:search"), {"q": "ana lopez"})

        assert response["Location"] == reverse("customers:detail", args=[ana.pk])

    def test_search_query_budget(self, django_assert_max_num_queries) -> None:
        for n in range(40):
            customer_resolve(
                identity=Identity(
                    email=f"smith{n}@example.com", first_name="Jo", last_name=f"Smith{n}"
                ),
                source=Channel.WEB,
            )
        client = client_for(Role.REP)

        with django_assert_max_num_queries(8):
            response = client.get(reverse("customers:search"), {"q": "smith"})

        assert len(response.context["result"].customers) == 25
        assert response.context["result"].has_next

    def test_name_matches_page_through_in_name_order(self) -> None:
        for n in range(30):
            customer_resolve(
                identity=Identity(
                    email=f"s{n}@example.com", first_name="Jo", last_name=f"Smith{n:02d}"
                ),
                source=Channel.WEB,
            )
        client = client_for(Role.REP)

        first = client.get(reverse("customers:search"), {"q": "smith"})
        second = client.get(reverse("customers:search"), {"q": "smith", "page": "2"})

        names = [c.last_name for c in first.context["result"].customers]
        names += [c.last_name for c in second.context["result"].customers]
        assert names == [f"Smith{n:02d}" for n in range(30)]
        assert "Matches 1–25" in first.content.decode() and 'rel="next"' in first.content.decode()
        assert "Matches 26–30" in second.content.decode()
        assert not second.context["result"].has_next

    def test_names_that_begin_with_the_query_come_first(self) -> None:
        for first, last in [
            ("Ann", "Blacksmith"),
            ("Smith", "Adams"),
            ("Mary", "Smithers"),
            ("Jo", "Smythe"),
            ("Jo", "Smith"),
            ("Zoë", "Smith"),
        ]:
            CustomerFactory(first_name=first, last_name=last)
        client = client_for(Role.REP)

        def found(query: str) -> list[str]:
            response = client.get(reverse("customers:search"), {"q": query})
            if response.status_code == 302:
                return [Customer.objects.get(pk=response["Location"].split("/")[-2]).full_name]
            return [customer.full_name for customer in response.context["result"].customers]

        # Surname first ("smith jo"), then first name first ("smith adams"); a name with the
        # word elsewhere ("blacksmith") only when no name begins with the query.
        assert found("smith") == ["Jo Smith", "Zoë Smith", "Mary Smithers", "Smith Adams"]
        assert found("SMITH zo") == ["Zoë Smith"]
        assert found("jo sm") == ["Jo Smith", "Jo Smythe"]
        assert found("zoe smith") == ["Zoë Smith"]
        assert found("smythe j") == ["Jo Smythe"]
        assert found("ksmith") == ["Ann Blacksmith"]
        assert found("ary smi") == ["Mary Smithers"]
        assert found("o sm") == ["Jo Smith", "Zoë Smith", "Jo Smythe"]

    def test_each_row_shows_her_contacts_store_and_month_in_the_users_zone(self, store) -> None:
        first_of_march = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
        lee = CustomerFactory(
            first_name="<b>Kim</b>",
            last_name="Lee",
            city="Oakland",
            home_store=store,
            customer_since=first_of_march,
        )
        ContactPointFactory(customer=lee, kind=ContactKind.EMAIL, value="kim@example.com")
        ContactPointFactory(customer=lee, kind=ContactKind.PHONE, value="+14155550134")
        ContactPointFactory(customer=lee, kind=ContactKind.LOYALTY, value="LC778801")
        ContactPointFactory(customer=lee, kind=ContactKind.EXTERNAL, value="shop:991")
        bare: Customer = CustomerFactory(
            first_name="Al", last_name="Lee", customer_since=first_of_march
        )
        rep: User = UserFactory(role=Role.REP, time_zone="America/Los_Angeles")
        client = Client()
        client.force_login(rep)

        def rows() -> list[str]:
            page = client.get(reverse("customers:search"), {"q": "lee"}).content.decode()
            body = page[page.index("<tbody>") : page.index("</tbody>")]
            rows = body.split("<tr")[1:]
            return [" ".join(re.sub(r"<[^>]+>", " ", "<tr" + row).split()) for row in rows]

        assert rows() == [
            f"&lt;b&gt;Kim&lt;/b&gt; Lee Oakland kim@example.com LC778801 (415) 555-0134 "
            f"{store.name} Feb 2026",
            "Al Lee — — Feb 2026",
        ]
        page = client.get(reverse("customers:search"), {"q": "lee"}).content.decode()
        assert f'href="{reverse("customers:detail", args=[bare.pk])}"' in page
        assert "shop:991" not in page

        rep.time_zone = "Europe/Berlin"
        rep.save()
        assert [row[-8:] for row in rows()] == ["Mar 2026", "Mar 2026"]

    def test_pages_run_on_from_surnames_to_first_names(self) -> None:
        surnames = [CustomerFactory(first_name=f"Al{n:02d}", last_name="Lee") for n in range(22)]
        first_names = [CustomerFactory(first_name="Leena", last_name=f"Berg{n}") for n in range(6)]
        CustomerFactory(first_name="Kathleen", last_name="Ross")
        merged = CustomerFactory(first_name="Al00", last_name="Lee", merged_into=surnames[0])
        client = client_for(Role.REP)

        first = client.get(reverse("customers:search"), {"q": "lee"}).context["result"]
        second = client.get(reverse("customers:search"), {"q": "lee", "page": "2"}).context[
            "result"
        ]

        assert first.customers + second.customers == surnames + first_names
        assert first.has_next and not second.has_next
        assert merged not in first.customers + second.customers

    def test_a_name_prefix_reads_only_a_page_of_its_index(self) -> None:
        """Thousands of names begin with the query; finding the first page reads as many index
        entries as the page shows (plus one), in order, and sorts nothing."""
        Customer.objects.bulk_create(
            CustomerFactory.build(first_name=f"Jo{n}", last_name=f"Smith{n}") for n in range(3000)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_customer")

        with CaptureQueriesContext(connection) as queries:
            result = customer_search(query="smith")
        assert len(result.customers) == 25 and result.has_next

        prefix = [q["sql"] for q in queries if "LIKE" in q["sql"]]
        assert len(prefix) == 1
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {prefix[0]}")
            plan = cursor.fetchone()[0][0]["Plan"]
        nodes = [plan, *plan.get("Plans", [])]
        assert nodes[0]["Node Type"] == "Limit"
        assert nodes[1]["Node Type"] in ("Index Scan", "Index Only Scan")
        assert nodes[1]["Index Name"] == "customer_reversed_name_prefix"
        assert nodes[1]["Actual Rows"] == 26


class TestCustomerPage:
    def test_shows_every_channel_in_one_timeline(self, ana, store) -> None:
        response = client_for(Role.REP).get(reverse("customers:detail", args=[ana.pk]))
        page = response.content.decode()

        assert "Ana López" in page
        assert "W200001" in page and "S300001" in page
        assert "Union Square" in page
        assert "(415) 555-0134" in page
        figures = response.context["figures"]
        assert figures.order_count == 2
        assert figures.lifetime_value == Decimal("90.00")
        assert figures.average_order == Decimal("45.00")
        assert figures.channels == ["Web shop", "Store"]

    def test_merged_id_redirects_to_the_survivor(self, ana) -> None:
        twin = customer_resolve(
            identity=Identity(phone="212 555 0100"), source=Channel.STORE
        ).customer
        customer_merge(survivor=ana, merged=twin, actor=UserFactory(role=Role.SUPERVISOR))

        response = client_for(Role.REP).get(reverse("customers:detail", args=[twin.pk]))

        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[ana.pk])

    def test_filters_by_channel_and_kind(self, ana) -> None:
        client = client_for(Role.REP)
        url = reverse("customers:detail", args=[ana.pk])

        store_only = (
            client.get(url, {"channel": "store", "kind": "order_placed"})
            .context["timeline"]
            .activities
        )
        assert [a.subject_id for a in store_only] == ["S300001"]

    def test_filtering_puts_the_customer_page_in_the_address_bar(self, ana) -> None:
        response = client_for(Role.REP).get(
            reverse("customers:timeline", args=[ana.pk]),
            {"channel": "store"},
            headers={"HX-Request": "true"},
        )

        url = reverse("customers:detail", args=[ana.pk])
        assert response["HX-Push-Url"] == f"{url}?channel=store"
        shown = response.context["timeline"].activities
        assert {a.channel for a in shown} == {"store"}
        assert "S300001" in [a.subject_id for a in shown]

    def test_older_entries_page_through_the_whole_history(self, ana) -> None:
        rep = UserFactory(role=Role.REP)
        for n in range(60):
            comment_add(customer=ana, author=rep, body=f"note {n}")
        client = Client()
        client.force_login(rep)
        url = reverse("customers:timeline", args=[ana.pk])

        seen: list[int] = []
        page = client.get(reverse("customers:detail", args=[ana.pk])).context["timeline"]
        seen += [a.pk for a in page.activities]
        while page.next_cursor:
            page = client.get(
                url, {"before": page.next_cursor}, headers={"HX-Request": "true"}
            ).context["timeline"]
            seen += [a.pk for a in page.activities]

        assert sorted(seen, reverse=True) == list(
            Activity.objects.filter(customer=ana).order_by("-id").values_list("pk", flat=True)
        )
        assert len(seen) == len(set(seen)) == Activity.objects.filter(customer=ana).count()

    @pytest.mark.parametrize("history", [5, 500])
    def test_query_budget_does_not_grow_with_history(
        self, history, ana, django_assert_max_num_queries
    ) -> None:
        Activity.objects.bulk_create(
            Activity(
                customer=ana,
                kind=ActivityKind.COMMENT_ADDED,
                channel=Channel.PHONE,
                summary=f"Call {n}",
                occurred_at=timezone.now(),
            )
            for n in range(history)
        )
        client = client_for(Role.MANAGER, StoreFactory())

        with django_assert_max_num_queries(12):
            response = client.get(reverse("customers:detail", args=[ana.pk]))

        assert response.status_code == 200
        # her two orders and the contact details the store sale added, plus the calls
        assert len(response.context["timeline"].activities) == min(history + 3, 25)


class TestCustomerPageRows:
    """The timeline, recent orders, inquiries and contact details, as the rep reads them."""

    def test_times_and_dates_are_in_the_reps_time_zone(self, ana) -> None:
        # given a rep in Kolkata, and a call, an order and an inquiry at 20:00 UTC on March 7:
        # 1:30 AM on March 8 for her
        rep: User = UserFactory.create(
            role=Role.REP, time_zone="Asia/Kolkata", first_name="Priya", last_name="Nair"
        )
        moment = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
        Activity.objects.create(
            customer=ana,
            kind=ActivityKind.CALL_LOGGED,
            channel=Channel.PHONE,
            summary="Called about the tee",
            occurred_at=moment,
            actor=rep,
            actor_role=Role.REP,
        )
        Order.objects.filter(number="W200001").update(placed_at=moment)
        inquiry = web_inquiry(email="ana.lopez@example.com", subject="Sizes")
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=moment)
        client = Client()
        client.force_login(rep)

        page = client.get(reverse("customers:detail", args=[ana.pk])).content.decode()

        assert (
            '<time class="timeline-time" datetime="2026-03-08T01:30:00+05:30" '
            'title="Sunday, March 8, 2026, 1:30 AM IST">Mar 8, 2026, 1:30 AM</time>'
        ) in page
        assert "Priya Nair, Call-center rep</span>" in page
        assert "Web shop · Mar 8, 2026</div>" in page
        assert "$60.00" in page
        assert "Web form · not routed yet · Mar 8, 2026</div>" in page

    def test_an_entry_of_today_says_so(self, ana) -> None:
        page = client_for(Role.REP).get(reverse("customers:detail", args=[ana.pk]))

        assert '">Today, ' in page.content.decode()

    def test_each_entry_links_to_what_it_is_about(self, ana) -> None:
        subjects = {
            "order": "W200001",
            "inquiry": "123",
            "product": "TEE-001",
            "touch": "spring 10%&more",
            "visit": "77",
            "cart": "c/9",
            "comment": "5",
        }
        for subject, subject_id in subjects.items():
            Activity.objects.create(
                customer=ana,
                kind=ActivityKind.OFFER_SENT,
                channel=Channel.WEB,
                summary=f"About a {subject}",
                subject_type=subject,
                subject_id=subject_id,
            )

        page = client_for(Role.REP).get(reverse("customers:detail", args=[ana.pk]))

        text = page.content.decode()
        touch, cart = quote("spring 10%&more"), quote("c/9")
        for subject, href in {
            "order": reverse("orders:detail", args=["W200001"]),
            "inquiry": reverse("tickets:inquiry", args=[123]),
            "product": reverse("products:detail", args=["TEE-001"]),
            "touch": f"{reverse('customers:offers', args=[ana.pk])}?from={touch}#offer-{touch}",
            "visit": f"{reverse('customers:visits', args=[ana.pk])}?from=77#visit-77",
            "cart": f"{reverse('customers:carts', args=[ana.pk])}?from={cart}#cart-{cart}",
        }.items():
            assert f'<a href="{href}">About a {subject} <i' in text, subject
        assert '<div class="timeline-title">About a comment</div>' in text

    def test_what_customers_and_staff_wrote_is_escaped(self, ana) -> None:
        Activity.objects.create(
            customer=ana,
            kind=ActivityKind.CALL_LOGGED,
            channel=Channel.PHONE,
            summary="<b>Called</b>",
            detail="<script>alert(1)</script>",
            actor=UserFactory.create(first_name="<i>Bo</i>", last_name="Li"),
            actor_role=Role.REP,
        )
        web_inquiry(email="ana.lopez@example.com", subject="<img src=x onerror=alert(2)>")

        page = client_for(Role.REP).get(reverse("customers:detail", args=[ana.pk]))

        text = page.content.decode()
        assert "<b>Called</b>" not in text and "&lt;b&gt;Called&lt;/b&gt;" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;i&gt;Bo&lt;/i&gt; Li, Call-center rep" in text
        assert "<img src=x" not in text and "&lt;img src=x onerror=alert(2)&gt;" in text


class TestComments:
    def test_htmx_comment_returns_the_new_entry_and_a_fresh_form(self, ana, store) -> None:
        client = client_for(Role.MANAGER, store)

        response = client.post(
            reverse("customers:comment_create", args=[ana.pk]),
            {"body": "Asked to be called after 5pm."},
            headers={"HX-Request": "true"},
        )

        page = response.content.decode()
        assert response.status_code == 200
        assert 'hx-swap-oob="afterbegin:#timeline-items"' in page
        assert '<div id="last-contact" hx-swap-oob="true"><time' in page
        assert "Asked to be called after 5pm." in page
        assert "Store manager" in page and "Union Square" in page
        assert Comment.objects.get().store == store

    def test_comment_text_is_escaped(self, ana) -> None:
        client = client_for(Role.REP)
        client.post(
            reverse("customers:comment_create", args=[ana.pk]),
            {"body": "<script>alert(1)</script>"},
        )

        page = client.get(reverse("customers:detail", args=[ana.pk])).content.decode()

        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_too_long_comment_gets_a_clear_error_and_is_not_stored(self, ana) -> None:
        client = client_for(Role.REP)

        htmx = client.post(
            reverse("customers:comment_create", args=[ana.pk]),
            {"body": "x" * 2001},
            headers={"HX-Request": "true"},
        )
        plain = client.post(
            reverse("customers:comment_create", args=[ana.pk]), {"body": "x" * 2001}
        )

        assert (
            "A comment can be at most 2,000 characters; this one has 2,001."
            in htmx.content.decode()
        )
        assert plain.status_code == 400
        assert not Comment.objects.exists()

    def test_post_without_csrf_token_is_refused(self, ana) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(UserFactory(role=Role.REP))

        response = client.post(reverse("customers:comment_create", args=[ana.pk]), {"body": "hi"})

        assert response.status_code == 403
        assert not Comment.objects.exists()


class TestMergeScreen:
    @pytest.fixture
    def suggestion(self, ana):
        customer_resolve(
            identity=Identity(phone="+1 415 555 0134", email="second@example.com"),
            source=Channel.WEB,
        )
        twin = customer_resolve(
            identity=Identity(email="twin@example.com", first_name="Ana", last_name="López"),
            source=Channel.WEB,
        ).customer
        customer_resolve(
            identity=Identity(email="twin@example.com", phone="+1 415 555 0134"), source=Channel.WEB
        )
        return MergeSuggestion.objects.get(customer_b=twin)

    def test_lists_and_compares_side_by_side(
        self, suggestion, django_assert_max_num_queries
    ) -> None:
        client = client_for(Role.SUPERVISOR)

        with django_assert_max_num_queries(12):
            listing = client.get(reverse("customers:merge_list"))
        detail = client.get(reverse("customers:merge_detail", args=[suggestion.pk]))

        assert suggestion.reason in listing.content.decode()
        page = detail.content.decode()
        assert "twin@example.com" in page and "ana.lopez@example.com" in page

    def test_merge_button_merges_and_redirects(self, suggestion, ana) -> None:
        client = client_for(Role.SUPERVISOR)

        response = client.post(
            reverse("customers:merge_detail", args=[suggestion.pk]), {"survivor": ana.pk}
        )

        assert response["Location"] == reverse("customers:detail", args=[ana.pk])
        assert Customer.objects.get(pk=suggestion.customer_b_id).merged_into == ana

    def test_choosing_neither_record_is_an_error(self, suggestion) -> None:
        response = client_for(Role.SUPERVISOR).post(
            reverse("customers:merge_detail", args=[suggestion.pk]), {"survivor": 12345}
        )

        assert response.status_code == 400
        assert "Choose one of the two records" in response.content.decode()
        assert not Customer.objects.filter(merged_into__isnull=False).exists()

    def test_dismiss(self, suggestion) -> None:
        client = client_for(Role.SUPERVISOR)

        client.post(reverse("customers:merge_dismiss", args=[suggestion.pk]))

        suggestion.refresh_from_db()
        assert suggestion.status == "dismissed"
        assert (
            client.get(reverse("customers:merge_detail", args=[suggestion.pk])).status_code == 404
        )
