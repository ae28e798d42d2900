"""The agent workspace pages: who sees what, what the pages show, and their query budgets."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from crm.models import Channel, OutboundEmail, Role
from customers.services import Identity
from tests.factories import QueueFactory, StoreFactory, UserFactory, store_staff, web_inquiry
from tickets.models import (
    CannedResponse,
    Inquiry,
    InquiryStatus,
    MessageKind,
    QueueMembership,
)
from tickets.services.customer_side import inquiry_rate
from tickets.services.inquiries import (
    IncomingMessage,
    inquiry_open,
    inquiry_receive,
    inquiry_set_status,
)
from tickets.services.workspace import inquiry_assign, inquiry_note_add, inquiry_set_queue

pytestmark = pytest.mark.django_db

INTERNAL = "Internal note — not visible to the customer"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP, first_name="Rita", last_name="Rep")


@pytest.fixture
def queue():
    return QueueFactory(name="Deliveries", slug="deliveries")


def due_in(inquiry: Inquiry, delta: timedelta) -> Inquiry:
    Inquiry.objects.filter(pk=inquiry.pk).update(first_response_due_at=timezone.now() + delta)
    return Inquiry.objects.get(pk=inquiry.pk)


class TestQueuePage:
    def test_tabs_count_and_filter(self, rep, queue):
        mine = web_inquiry(email="a@example.com", subject="Mine")
        inquiry_assign(inquiry=mine, assignee=rep, actor=rep)
        breaching = due_in(
            web_inquiry(email="b@example.com", subject="Late"), timedelta(minutes=-5)
        )
        due_in(web_inquiry(email="c@example.com", subject="Fine"), timedelta(hours=5))
        client = signed_in(rep)

        page = client.get(reverse("tickets:queue"))
        tabs = {tab.key: tab.count for tab in page.context["q"].tabs}
        breaching_page = client.get(reverse("tickets:queue"), {"view": "breaching"})
        mine_page = client.get(reverse("tickets:queue"), {"view": "mine"})

        assert tabs == {"all": 3, "mine": 1, "unassigned": 2, "breaching": 1}
        assert [row.inquiry for row in breaching_page.context["q"].rows] == [breaching]
        assert [row.inquiry for row in mine_page.context["q"].rows] == [mine]
        html = page.content.decode()
        assert "overdue by 5 min" in html and "sla-breached" in html
        assert "due in 4 h 59 min" in html or "due in 5 h" in html

    def test_sla_due_first_by_default_or_newest_first(self, rep):
        later = due_in(web_inquiry(email="a@example.com"), timedelta(hours=1))
        sooner = due_in(web_inquiry(email="b@example.com"), timedelta(minutes=30))
        older = due_in(web_inquiry(email="c@example.com"), timedelta(minutes=10))
        Inquiry.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
        client = signed_in(rep)

        by_due = client.get(reverse("tickets:queue")).context["q"].rows
        newest = client.get(reverse("tickets:queue"), {"sort": "newest"}).context["q"].rows

        assert [row.inquiry for row in by_due] == [older, sooner, later]
        assert [row.inquiry for row in newest] == [sooner, later, older]

    def test_per_queue_counts_and_filter(self, rep, queue):
        routed = web_inquiry(email="a@example.com")
        inquiry_set_queue(inquiry=routed, queue=queue, actor=rep)
        web_inquiry(email="b@example.com")
        client = signed_in(rep)

        page = client.get(reverse("tickets:queue"), {"queue": "deliveries"})

        counts = {q.slug: q.count for q in page.context["q"].queues}
        assert counts["deliveries"] == 1
        assert [row.inquiry for row in page.context["q"].rows] == [routed]
        assert page.context["q"].queue_name == "Deliveries"

    def test_status_filter_and_empty_state(self, rep):
        web_inquiry()

        page = signed_in(rep).get(reverse("tickets:queue"), {"status": "resolved"})

        assert page.context["q"].rows == []
        assert "No inquiry matches these filters." in page.content.decode()

    def test_pages_of_25_keep_the_filters(self, rep):
        for n in range(27):
            web_inquiry(email=f"c{n}@example.com")
        client = signed_in(rep)

        first = client.get(reverse("tickets:queue"), {"sort": "newest"})
        second = client.get(reverse("tickets:queue"), {"sort": "newest", "page": "2"})

        assert len(first.context["q"].rows) == 25
        assert first.context["next_link"] == "?sort=newest&page=2"
        assert len(second.context["q"].rows) == 2

    def test_the_queue_shows_its_customers_ratings(self, rep, queue):
        for rating in (5, 4):
            inquiry = web_inquiry(email=f"r{rating}@example.com")
            inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)
            inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
            inquiry_rate(inquiry=inquiry, rating=rating, comment="", actor=None)

        page = signed_in(rep).get(reverse("tickets:queue"), {"status": "resolved"})

        listed = next(q for q in page.context["q"].queues if q.slug == queue.slug)
        assert (listed.rating, listed.ratings) == (4.5, 2)
        html = page.content.decode()
        assert '4.5 <span class="visually-hidden">out of 5 from </span>(2)' in html
        assert "5/5" in html and "4/5" in html

    def test_store_staff_see_their_stores_ratings_not_the_call_centers(self, rep, queue):
        store = StoreFactory()
        for rating, at in ((5, store), (1, None)):
            inquiry = web_inquiry(email=f"r{rating}@example.com", store=at)
            inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)
            inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
            inquiry_rate(inquiry=inquiry, rating=rating, comment="", actor=None)

        seen = {}
        for user in (rep, store_staff(store)):
            page = signed_in(user).get(reverse("tickets:queue"), {"status": "resolved"})
            listed = next(q for q in page.context["q"].queues if q.slug == queue.slug)
            seen[user.pk] = (listed.rating, listed.ratings)

        assert list(seen.values()) == [(3.0, 2), (5.0, 1)]

    def test_a_row_shows_its_times_in_the_reps_zone_and_escapes_what_customers_wrote(self, rep):
        rep.time_zone = "Asia/Kolkata"
        rep.save(update_fields=["time_zone"])
        inquiry = web_inquiry(email="x@example.com", subject="<script>alert(1)</script>")
        opened = datetime(2026, 3, 8, 20, 35, 12, 345678, tzinfo=UTC)
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=opened)
        local = timezone.localtime(opened, ZoneInfo("Asia/Kolkata"))

        html = signed_in(rep).get(reverse("tickets:queue")).content.decode()

        assert (
            f'<time datetime="{dateformat.format(local, "c")}" title="Mar 9, 2026, 2:05 AM IST">'
            "Mar 9, 2:05 AM</time>"
        ) in html
        assert f'href="/inquiries/{inquiry.pk}/">{inquiry.reference}</a>' in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html

    @pytest.mark.parametrize("count", [2, 30])
    def test_query_budget_does_not_grow_with_the_list(
        self, count, rep, queue, django_assert_num_queries
    ):
        for n in range(count):
            inquiry = web_inquiry(email=f"c{n}@example.com")
            inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)
            inquiry_assign(inquiry=inquiry, assignee=rep, actor=rep)
        client = signed_in(rep)

        # user, the tally's counts per queue (the tabs' too), the inquiries falling due within
        # the hour of the "breaching soon" limit, queue ratings, queues, page (the session comes
        # from the shared cache)
        with django_assert_num_queries(6):
            response = client.get(reverse("tickets:queue"))
        assert response.context["q"].page.paginator.count == count

        # A filter beyond the tab's own needs the list's count too; the ratings come from the
        # shared cache now.
        with django_assert_num_queries(6):
            response = client.get(reverse("tickets:queue"), {"channel": "web_form"})
        assert response.context["q"].page.paginator.count == count


def email_inquiry(**message) -> Inquiry:
    defaults = {"text": "Where is my sofa?", "subject": "Sofa", "from_address": "maya@example.com"}
    return inquiry_open(
        channel=Channel.EMAIL,
        identity=Identity(email="maya@example.com", first_name="Maya"),
        message=IncomingMessage(**{**defaults, **message}),
    )


class TestInquiryPage:
    def test_a_refused_acknowledgement_is_visible_with_the_servers_answer(
        self, rep, mailer_to_sink, django_capture_on_commit_callbacks
    ):
        mailer_to_sink.answer_next("550 5.1.1 No such mailbox")
        with django_capture_on_commit_callbacks(execute=True):
            inquiry = web_inquiry(email="gone@example.com")

        html = signed_in(rep).get(reverse("tickets:inquiry", args=[inquiry.pk])).content.decode()

        assert "Not delivered to gone@example.com" in html
        assert "550 5.1.1 No such mailbox" in html

    def test_the_conversation_marks_internal_notes_and_escapes_everything(self, rep):
        inquiry = email_inquiry(
            text="",
            html="<p>Hello <b>there</b> &amp; <script>alert(1)</script></p>",
            subject="<img src=x onerror=alert(1)>",
        )
        inquiry_note_add(inquiry=inquiry, text="<i>she is VIP</i>", actor=rep)

        html = signed_in(rep).get(reverse("tickets:inquiry", args=[inquiry.pk])).content.decode()

        assert INTERNAL in html
        assert "&lt;i&gt;she is VIP&lt;/i&gt;" in html
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "Hello there &amp; alert(1)" in html

    def test_messages_and_history_show_their_times_in_the_reps_zone(self, rep):
        rep.time_zone = "America/Los_Angeles"
        rep.save(update_fields=["time_zone"])
        inquiry = email_inquiry()
        written = datetime(2026, 3, 9, 4, 0, 12, 345678, tzinfo=UTC)
        inquiry.messages.update(created_at=written)
        inquiry.events.update(created_at=written)
        iso = dateformat.format(timezone.localtime(written, ZoneInfo("America/Los_Angeles")), "c")

        html = signed_in(rep).get(reverse("tickets:inquiry", args=[inquiry.pk])).content.decode()

        assert (
            f'<time class="message-time" datetime="{iso}" '
            'title="Sunday, March 8, 2026, 9:00 PM PDT">Mar 8, 9:00 PM</time>'
        ) in html
        assert (
            f'<time class="text-body-secondary text-nowrap" datetime="{iso}">Mar 8, 9:00 PM' in html
        )

    def test_the_customer_summary_and_the_routing_are_beside_it(self, rep, queue):
        inquiry = email_inquiry()
        Inquiry.objects.filter(pk=inquiry.pk).update(
            routed_at=timezone.now(), routing_reason="Words: sofa", queue=queue
        )

        html = signed_in(rep).get(reverse("tickets:inquiry", args=[inquiry.pk])).content.decode()

        assert "Open 360 page" in html and inquiry.customer.get_absolute_url() in html
        assert "maya@example.com" in html
        assert "Words: sofa" in html
        assert "Lifetime value" in html

    def test_reply_from_the_page(self, rep):
        inquiry = email_inquiry()

        response = signed_in(rep).post(
            reverse("tickets:reply", args=[inquiry.pk]),
            {"text": "It ships Monday.", "status": "waiting"},
            follow=True,
        )

        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.WAITING
        reply = inquiry.messages.get(kind=MessageKind.OUTBOUND)
        assert reply.outbound_email.to == ["maya@example.com"]
        assert "Reply sent to maya@example.com." in response.content.decode()

    def test_an_empty_reply_comes_back_with_the_error(self, rep):
        inquiry = email_inquiry()

        response = signed_in(rep).post(reverse("tickets:reply", args=[inquiry.pk]), {"text": ""})

        assert response.status_code == 400
        assert "is-invalid" in response.content.decode()
        assert not inquiry.messages.filter(kind=MessageKind.OUTBOUND).exists()

    def test_canned_responses_of_the_queue_and_global_ones(self, rep, queue):
        inquiry = email_inquiry()
        inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)
        CannedResponse.objects.create(title="Everywhere", body="Hi!")
        CannedResponse.objects.create(title="Delivery delay", body="Sorry…", queue=queue)
        CannedResponse.objects.create(title="Other team", body="x", queue=QueueFactory.create())

        page = signed_in(rep).get(reverse("tickets:inquiry", args=[inquiry.pk]))

        titles = {canned.title for canned in page.context["page"].canned_responses}
        assert titles == {"Everywhere", "Delivery delay"}

    def test_actions_change_the_inquiry(self, rep, queue):
        QueueMembership.objects.create(queue=queue, user=rep)
        inquiry = email_inquiry()
        client = signed_in(rep)

        client.post(reverse("tickets:move", args=[inquiry.pk]), {"queue": "deliveries"})
        client.post(reverse("tickets:assign", args=[inquiry.pk]), {"assignee": "me"})
        client.post(reverse("tickets:priority", args=[inquiry.pk]), {"priority": "4"})
        client.post(reverse("tickets:status", args=[inquiry.pk]), {"status": "open"})
        client.post(reverse("tickets:tags", args=[inquiry.pk]), {"tags": "Sofa, late"})

        inquiry.refresh_from_db()
        assert (inquiry.queue, inquiry.assignee, inquiry.priority) == (queue, rep, 4)
        assert inquiry.status == InquiryStatus.OPEN
        assert inquiry.tags == ["sofa", "late"]

    def test_an_illegal_status_move_is_explained(self, rep):
        inquiry = email_inquiry()
        client = signed_in(rep)
        client.post(reverse("tickets:status", args=[inquiry.pk]), {"status": "resolved"})

        response = client.post(
            reverse("tickets:status", args=[inquiry.pk]), {"status": "waiting"}, follow=True
        )

        assert "cannot become waiting on customer" in response.content.decode()

    @pytest.mark.parametrize("messages", [1, 20])
    def test_query_budget_does_not_grow_with_the_conversation(
        self, messages, rep, queue, django_assert_num_queries
    ):
        inquiry = email_inquiry(message_id="m0@mail.example")
        inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)
        QueueMembership.objects.create(queue=queue, user=rep)
        for n in range(1, messages):
            inquiry_receive(
                inquiry=inquiry,
                channel=Channel.EMAIL,
                message=IncomingMessage(text=f"Message {n}", from_address="maya@example.com"),
            )
            inquiry_note_add(inquiry=inquiry, text=f"Note {n}", actor=rep)
        client = signed_in(rep)

        # user, inquiry, messages, attachments, events, customer, contact points, two for her
        # figures, orders, merge candidates, canned responses, members, queues, call-backs (the
        # session comes from the shared cache)
        with django_assert_num_queries(15):
            response = client.get(reverse("tickets:inquiry", args=[inquiry.pk]))

        assert response.status_code == 200


class TestWhoSeesWhat:
    def test_store_staff_see_their_stores_inquiries_and_may_only_note(self, rep):
        store, other_store = StoreFactory(), StoreFactory()
        manager = store_staff(store)
        ours = web_inquiry(email="a@example.com", store=store)
        theirs = web_inquiry(email="b@example.com", store=other_store)
        client = signed_in(manager)

        listed = client.get(reverse("tickets:queue")).context["q"].rows
        page = client.get(reverse("tickets:inquiry", args=[ours.pk]))
        foreign = client.get(reverse("tickets:inquiry", args=[theirs.pk]))
        note = client.post(reverse("tickets:note", args=[ours.pk]), {"note": "She came by."})
        reply = client.post(reverse("tickets:reply", args=[ours.pk]), {"text": "Hi"})
        foreign_note = client.post(reverse("tickets:note", args=[theirs.pk]), {"note": "x"})

        assert [row.inquiry for row in listed] == [ours]
        assert page.status_code == 200 and "Send reply" not in page.content.decode()
        assert foreign.status_code == 404
        assert note.status_code == 302
        assert ours.messages.filter(kind=MessageKind.NOTE, text="She came by.").exists()
        assert reply.status_code == 403
        assert foreign_note.status_code == 404

    def test_customers_and_strangers_are_kept_out(self):
        inquiry = web_inquiry()
        customer = UserFactory(role=Role.CUSTOMER)

        as_customer = signed_in(customer).get(reverse("tickets:inquiry", args=[inquiry.pk]))
        anonymous = Client().get(reverse("tickets:queue"))
        post = signed_in(customer).post(reverse("tickets:reply", args=[inquiry.pk]), {"text": "x"})

        assert as_customer.status_code == 403
        assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
        assert post.status_code == 403
        assert not OutboundEmail.objects.filter(subject__startswith="Re:").exists()

    def test_merging_from_the_page(self, rep):
        survivor = web_inquiry(text="One")
        other = web_inquiry(text="Two")

        signed_in(rep).post(reverse("tickets:merge", args=[survivor.pk]), {"other": other.pk})

        assert Inquiry.objects.get(pk=other.pk).merged_into == survivor
        merged_page = signed_in(rep).get(reverse("tickets:inquiry", args=[other.pk]))
        assert "Merged into" in merged_page.content.decode()
