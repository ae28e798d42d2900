"""The knowledge base's pages: staff list, read, write, preview and publish; customers read,
get suggestions while they write, and say "This answered my question"; the acknowledgement lists
matching articles; agents find articles to insert from the inquiry page. Each page within a query
budget that does not grow with the knowledge base."""

from typing import Any, cast

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse

from crm.models import AuditEntry, Role
from tests.factories import CustomerFactory, StoreFactory, UserFactory, store_staff, web_inquiry
from tests.tickets.factories_knowledge import article, editor, many_articles
from tickets.models import Article, ArticleCategory, ArticleDeflection, DeflectionSource

pytestmark = pytest.mark.django_db

RETURNS_BODY = (
    "Bring the item to **any store** within 30 days: no receipt needed.\n\n"
    "Or [start a return online](/support/)."
)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customer_user() -> Any:
    return UserFactory(role=Role.CUSTOMER, email="maya@example.com")


@pytest.fixture
def returns() -> Article:
    return article(
        "Returns and exchanges in any store",
        RETURNS_BODY,
        category=ArticleCategory.RETURNS,
    )


# Staff pages -------------------------------------------------------------------------------


class TestStaffPages:
    def test_the_list_shows_drafts_badges_and_deflections_to_editors(self, returns):
        article("Gift card balance", "Ask at any till.", published=False)
        Article.objects.filter(pk=returns.pk).update(deflection_count=7)

        page = signed_in(editor()).get(reverse("tickets:knowledge:list")).content.decode()

        assert "Returns and exchanges in any store" in page and "Gift card balance" in page
        assert "Published</span>" in page and "Draft</span>" in page
        assert '<td class="text-end kb-count">7<' in page
        assert 'href="/inquiries/knowledge/new/"' in page

    def test_store_staff_read_published_articles_only_and_cannot_write(self, returns):
        draft = article("Secret draft", "Not yet.", published=False)
        associate = signed_in(store_staff(StoreFactory(), Role.ASSOCIATE))

        page = associate.get(reverse("tickets:knowledge:list")).content.decode()
        assert returns.title in page and draft.title not in page
        assert "New article" not in page
        assert (
            associate.get(reverse("tickets:knowledge:detail", args=[returns.pk])).status_code == 200
        )
        assert (
            associate.get(reverse("tickets:knowledge:detail", args=[draft.pk])).status_code == 404
        )
        assert associate.get(reverse("tickets:knowledge:new")).status_code == 403
        assert (
            associate.get(reverse("tickets:knowledge:edit", args=[returns.pk])).status_code == 403
        )
        publish = reverse("tickets:knowledge:publish", args=[returns.pk])
        assert associate.post(publish, {"published": "false"}).status_code == 403

    def test_customers_and_visitors_never_reach_the_staff_pages(self, returns):
        customer = signed_in(customer_user())
        assert customer.get(reverse("tickets:knowledge:list")).status_code == 403
        assert customer.get(reverse("tickets:knowledge:picker")).status_code == 403
        response = Client().get(reverse("tickets:knowledge:list"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_search_category_and_status_filters(self, returns):
        article("Gift card balance", "Check it at any till.", category=ArticleCategory.PAYMENTS)
        article("Pickup hold", "Seven days.", category=ArticleCategory.PICKUP, published=False)
        client = signed_in(editor())
        url = reverse("tickets:knowledge:list")

        def titles(**params: str) -> str:
            return client.get(url, params).content.decode()

        found = titles(search="returning")
        assert returns.title in found and "Gift card balance" not in found
        by_category = titles(category="payments")
        assert "Gift card balance" in by_category and returns.title not in by_category
        drafts = titles(status="draft")
        assert "Pickup hold" in drafts and returns.title not in drafts
        none = titles(search="xyzzy")
        assert "No article matches" in none and "Show every article" in none
        # Unknown values fall back to "any".
        assert returns.title in titles(category="nonsense", status="weird")

    def test_the_list_pages_keeping_its_filters(self):
        many_articles(30)
        client = signed_in(editor())
        first = client.get(reverse("tickets:knowledge:list"), {"category": "returns"})
        text = first.content.decode()
        assert "Page 1 of 2" in text and "?category=returns&amp;page=2" in text
        second = client.get(reverse("tickets:knowledge:list"), {"category": "returns", "page": 2})
        assert second.content.decode().count('class="row-link"') == 5

    def test_empty_knowledge_base_invites_the_first_article(self):
        page = signed_in(editor()).get(reverse("tickets:knowledge:list")).content.decode()
        assert "No articles yet" in page and "Write the first article" in page

    def test_an_editor_writes_and_publishes_an_article(self, settings):
        settings.CRM_SITE_URL = "https://shop.example"
        rep = editor()
        client = signed_in(rep)
        response = client.post(
            reverse("tickets:knowledge:new"),
            {
                "title": "Can someone else pick up my order?",
                "category": "pickup",
                "body": "Yes: with the **pickup code**.",
                "action": "publish",
            },
        )
        created = Article.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("tickets:knowledge:detail", args=[created.pk])
        assert created.is_published and created.author == rep
        detail = client.get(response["Location"]).content.decode()
        assert "<strong>pickup code</strong>" in detail
        assert "published." in detail  # the success message
        assert "https://shop.example/support/articles/can-someone-else-pick-up-my-order/" in detail
        assert client.get(created.get_absolute_url()).status_code == 200

    def test_saving_a_draft_keeps_it_from_customers(self):
        client = signed_in(editor())
        client.post(
            reverse("tickets:knowledge:new"),
            {"title": "Draft", "category": "returns", "body": "Soon.", "action": "save"},
        )
        draft = Article.objects.get()
        assert draft.is_published is False
        assert Client().get(draft.get_absolute_url()).status_code == 404

    def test_the_form_explains_what_is_wrong_and_keeps_what_was_typed(self):
        client = signed_in(editor())
        response = client.post(
            reverse("tickets:knowledge:new"),
            {"title": "", "category": "", "body": "Half an answer", "action": "publish"},
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "Give the article a title." in page and "Choose a category." in page
        assert "Half an answer</textarea>" in page
        assert 'aria-invalid="true"' in page
        assert not Article.objects.exists()

    def test_preview_renders_without_saving(self):
        client = signed_in(editor())
        data = {
            "title": "Sizes",
            "category": "products",
            "body": "Take **M**.",
            "action": "preview",
        }
        page = client.post(reverse("tickets:knowledge:new"), data).content.decode()
        assert "<strong>M</strong>" in page and 'id="article-preview"' in page
        fragment = client.post(reverse("tickets:knowledge:new"), data, HTTP_HX_REQUEST="true")
        text = fragment.content.decode()
        assert text.lstrip().startswith('<section id="article-preview"')
        assert "<strong>M</strong>" in text
        broken = client.post(
            reverse("tickets:knowledge:new"), {**data, "body": ""}, HTTP_HX_REQUEST="true"
        )
        assert broken.status_code == 200 and "Answer: Write the answer." in broken.content.decode()
        assert not Article.objects.exists()

    def test_editing_keeps_the_state_and_the_address(self, returns):
        client = signed_in(editor())
        form = client.get(reverse("tickets:knowledge:edit", args=[returns.pk])).content.decode()
        assert "Returns and exchanges in any store" in form and "Save changes" in form
        saved = client.post(
            reverse("tickets:knowledge:edit", args=[returns.pk]),
            {"title": "Returns in any store", "category": "returns", "body": RETURNS_BODY},
            follow=True,
        )
        assert "“Returns in any store” saved: customers see the change now." in (
            saved.content.decode()
        )
        returns.refresh_from_db()
        assert returns.title == "Returns in any store" and returns.is_published
        assert returns.slug == "returns-and-exchanges-in-any-store"

    def test_publish_and_unpublish_from_the_article_page(self, returns):
        client = signed_in(editor())
        url = reverse("tickets:knowledge:publish", args=[returns.pk])
        assert client.get(url).status_code == 405
        response = client.post(url, {"published": "false"}, follow=True)
        assert "is a draft again" in response.content.decode()
        assert Client().get(returns.get_absolute_url()).status_code == 404
        client.post(url, {"published": "true"})
        assert Client().get(returns.get_absolute_url()).status_code == 200
        assert AuditEntry.objects.filter(action="article.unpublish").count() == 1

    def test_the_nav_links_the_knowledge_base_for_staff_only(self, returns):
        staff_page = signed_in(store_staff(StoreFactory())).get(reverse("home"), follow=True)
        assert 'href="/inquiries/knowledge/"' in staff_page.content.decode()
        customer_page = signed_in(customer_user()).get(reverse("support:portal"))
        assert 'href="/inquiries/knowledge/"' not in customer_page.content.decode()

    def test_the_admin_lists_articles_but_leaves_writing_to_the_services(self, returns):
        admin = signed_in(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
        listing = admin.get(reverse("admin:tickets_article_changelist"))
        assert listing.status_code == 200 and returns.title in listing.content.decode()
        assert admin.get(reverse("admin:tickets_article_add")).status_code == 403
        change = admin.get(reverse("admin:tickets_article_change", args=[returns.pk]))
        assert change.status_code == 200 and "Save" not in change.content.decode()


# The customer's side -----------------------------------------------------------------------


class TestCustomerSide:
    def test_a_published_article_is_public_and_a_draft_is_not(self, returns):
        draft = article("Coming soon", "Not yet.", published=False)
        page = Client().get(returns.get_absolute_url())
        assert page.status_code == 200
        text = page.content.decode()
        assert "<strong>any store</strong>" in text
        assert '<a href="/support/" rel="noopener noreferrer nofollow">' in text
        assert "This answered my question" in text
        assert Client().get(draft.get_absolute_url()).status_code == 404
        assert Client().get("/support/articles/no-such-article/").status_code == 404

    def test_the_help_page_lists_by_category_and_searches(self, returns):
        article("Gift card balance", "Ask at any till.", category=ArticleCategory.PAYMENTS)
        article("Draft only", "x", published=False)
        index = Client().get(reverse("support:help")).content.decode()
        assert "Returns &amp; refunds" in index and "Payments &amp; gift cards" in index
        assert "Draft only" not in index
        found = Client().get(reverse("support:help"), {"q": "returning a jacket"}).content.decode()
        assert returns.title in found and "Gift card balance" not in found
        none = Client().get(reverse("support:help"), {"q": "xyzzy"}).content.decode()
        assert "No article matches “xyzzy”" in none
        # Typing in the page's search swaps the results only; going back in history gets a page.
        typed = Client().get(reverse("support:help"), {"q": "returning"}, HTTP_HX_REQUEST="true")
        assert "<html" not in typed.content.decode() and returns.title in typed.content.decode()
        restored = Client().get(
            reverse("support:help"),
            {"q": "returning"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_HISTORY_RESTORE_REQUEST="true",
        )
        assert "<html" in restored.content.decode()

    def test_suggestions_while_she_types_and_never_a_draft(self, returns):
        article("Returns of drafts", "Returning something secret.", published=False)
        response = Client().get(
            reverse("support:article_suggest"),
            {"subject": "returning my shoes", "message": "", "source": "inquiry_form"},
        )
        text = response.content.decode()
        assert response.status_code == 200
        assert returns.title in text and "Returns of drafts" not in text
        assert "This answered my question" in text
        assert (
            Client().get(reverse("support:article_suggest"), {"subject": "xyzzy"}).content.strip()
            == b""
        )

    def test_the_web_form_and_the_portal_ask_for_suggestions_as_she_types(self):
        form = Client().get(reverse("support:contact")).content.decode()
        assert 'hx-get="/support/articles/suggest/"' in form
        assert (
            'hx-trigger="keyup changed delay:400ms' in form and 'id="article-suggestions"' in form
        )
        user = customer_user()
        portal = signed_in(user).get(reverse("support:portal")).content.decode()
        assert 'hx-get="/support/articles/suggest/"' in portal

    def test_this_answered_my_question_counts_once_per_visitor(self, returns):
        helped = reverse("support:article_helped", args=[returns.slug])
        maya = Client(enforce_csrf_checks=False)
        maya.get(reverse("support:contact"))

        first = maya.post(helped, {"source": "inquiry_form"}, HTTP_HX_REQUEST="true")
        again = maya.post(helped, {"source": "inquiry_form"}, HTTP_HX_REQUEST="true")
        Client().post(helped, {"source": "article_page"})  # another visitor

        assert "Thank you" in first.content.decode()
        assert "No need to send the form." in first.content.decode()
        assert "Thank you" in again.content.decode()
        returns.refresh_from_db()
        assert returns.deflection_count == 2
        sources = set(ArticleDeflection.objects.values_list("source", flat=True))
        assert sources == {DeflectionSource.INQUIRY_FORM, DeflectionSource.ARTICLE_PAGE}
        # Her later suggestions show that she already said so.
        suggestions = maya.get(reverse("support:article_suggest"), {"subject": "returns"})
        assert "Thank you" in suggestions.content.decode()
        assert "This answered my question" not in suggestions.content.decode()

    def test_this_answered_my_question_needs_a_post_with_csrf(self, returns):
        helped = reverse("support:article_helped", args=[returns.slug])
        assert Client().get(helped).status_code == 405
        assert Client(enforce_csrf_checks=True).post(helped).status_code == 403
        response = Client().post(helped, follow=True)
        assert "glad this answered your question" in response.content.decode()
        returns.refresh_from_db()
        assert returns.deflection_count == 1

    def test_a_signed_in_customer_is_remembered_on_her_deflection(self, returns):
        user = customer_user()
        customer = CustomerFactory(user=user)
        signed_in(user).post(reverse("support:article_helped", args=[returns.slug]))
        assert ArticleDeflection.objects.get().customer == customer

    def test_no_deflection_for_a_draft(self, returns):
        draft = article("Draft", "x", published=False)
        response = Client().post(reverse("support:article_helped", args=[draft.slug]))
        assert response.status_code == 404
        assert not ArticleDeflection.objects.exists()

    def test_the_suggestions_are_rate_limited_per_address(self, returns):
        client = Client()
        url = reverse("support:article_suggest")
        statuses = [client.get(url, {"subject": "returns"}).status_code for _ in range(61)]
        assert statuses[:60] == [200] * 60 and statuses[60] == 429
        assert client.get(returns.get_absolute_url()).status_code == 200


# The acknowledgement -----------------------------------------------------------------------


def _send_web_form(client: Client, subject: str, message: str) -> None:
    response = client.post(
        reverse("support:contact"),
        {
            "name": "Maya Lopez",
            "email": "maya@example.com",
            "phone": "",
            "order_number": "",
            "subject": subject,
            "message": message,
            "website": "",
        },
    )
    assert response.status_code == 302


class TestAcknowledgement:
    def test_it_lists_the_matching_published_articles_with_absolute_links(
        self, returns, settings, django_capture_on_commit_callbacks
    ):
        settings.CRM_SITE_URL = "https://shop.example"
        refunds = article("When will I get my refund?", "Refunds take 3 to 5 business days.")
        article("Returning drafts", "Returns draft text.", published=False)
        article("Gift card balance", "Ask at any till.", category=ArticleCategory.PAYMENTS)

        with django_capture_on_commit_callbacks(execute=True):
            _send_web_form(
                Client(), "Returning a jacket", "I returned a jacket, where is my refund?"
            )

        sent = cast(EmailMultiAlternatives, mail.outbox[0])
        assert len(mail.outbox) == 1
        text = sent.body
        html = str(sent.alternatives[0][0])
        assert "These answers may help you right away:" in text
        for found in (returns, refunds):
            url = f"https://shop.example/support/articles/{found.slug}/"
            assert f"- {found.title}\n  {url}" in text
            assert f'<a href="{url}"' in html and str(found.title) in html
        assert "Returning drafts" not in text and "Gift card balance" not in text

    def test_none_are_listed_when_nothing_matches(
        self, returns, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _send_web_form(Client(), "Xyzzy", "Plugh quux.")
        sent = cast(EmailMultiAlternatives, mail.outbox[0])
        assert "These answers may help" not in sent.body
        assert "/support/articles/" not in sent.body
        assert "These answers may help" not in str(sent.alternatives[0][0])


# The inquiry page's article picker ---------------------------------------------------------


class TestArticlePicker:
    def test_the_reply_form_offers_the_picker_to_who_replies(self, returns):
        inquiry = web_inquiry(subject="Returning a jacket")
        page = signed_in(editor()).get(reverse("tickets:inquiry", args=[inquiry.pk]))
        text = page.content.decode()
        assert "Insert an article" in text
        assert f'hx-get="/inquiries/knowledge/picker/?inquiry={inquiry.pk}"' in text
        assert "/static/tickets/knowledge.js" in text
        assert "<script>" not in text  # no inline script

    def test_it_suggests_articles_for_the_inquiry_with_text_and_link(self, returns, settings):
        settings.CRM_SITE_URL = "https://shop.example"
        article("Gift card balance", "Ask at any till.", category=ArticleCategory.PAYMENTS)
        inquiry = web_inquiry(subject="Returning a jacket")
        client = signed_in(editor())

        text = client.get(
            reverse("tickets:knowledge:picker"), {"inquiry": inquiry.pk}
        ).content.decode()

        assert "Matching this inquiry" in text
        assert returns.title in text and "Gift card balance" not in text
        assert (
            'data-insert-text="Returns and exchanges in any store\n\n'
            "Bring the item to any store within 30 days: no receipt needed.\n\n"
            "Or start a return online (https://shop.example/support/).\n\n"
            'Read it online: https://shop.example/support/articles/returns-and-exchanges-in-any-store/"'
        ) in text

    def test_it_searches_and_falls_back_to_the_latest(self, returns):
        gift = article("Gift card balance", "Ask at any till.", category=ArticleCategory.PAYMENTS)
        article("Draft about gift cards", "x", published=False)
        client = signed_in(editor())
        url = reverse("tickets:knowledge:picker")
        searched = client.get(url, {"search": "gift card"}).content.decode()
        assert gift.title in searched and returns.title not in searched
        assert "Draft about gift cards" not in searched
        latest = client.get(url, {"inquiry": web_inquiry(subject="Xyzzy").pk}).content.decode()
        assert "Latest articles" in latest and gift.title in latest and returns.title in latest
        none = client.get(url, {"search": "xyzzy"}).content.decode()
        assert "No published article matches “xyzzy”" in none

    def test_store_staff_cannot_use_it(self, returns):
        associate = signed_in(store_staff(StoreFactory(), Role.ASSOCIATE))
        assert associate.get(reverse("tickets:knowledge:picker")).status_code == 403

    def test_an_inquiry_out_of_sight_suggests_nothing_of_it(self, returns):
        # A store associate cannot reply, so cannot pick; a rep sees every inquiry. An unknown
        # inquiry id simply falls back to the latest articles.
        text = (
            signed_in(editor())
            .get(reverse("tickets:knowledge:picker"), {"inquiry": "999999"})
            .content.decode()
        )
        assert "Latest articles" in text


# Query budgets -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
class TestQueryBudgets:
    def test_staff_list(self, count, django_assert_max_num_queries):
        many_articles(count)
        client = signed_in(editor())
        # session, user, count, page
        with django_assert_max_num_queries(4):
            assert client.get(reverse("tickets:knowledge:list")).status_code == 200
        with django_assert_max_num_queries(4):
            response = client.get(reverse("tickets:knowledge:list"), {"search": "returning"})
        assert response.status_code == 200

    def test_staff_article(self, count, django_assert_max_num_queries):
        articles = many_articles(count)
        client = signed_in(editor())
        with django_assert_max_num_queries(3):
            response = client.get(reverse("tickets:knowledge:detail", args=[articles[-1].pk]))
        assert response.status_code == 200

    def test_public_article_help_page_and_suggestions(self, count, django_assert_max_num_queries):
        articles = many_articles(count)
        client = Client()
        with django_assert_max_num_queries(1):
            assert client.get(articles[-1].get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(1):
            assert client.get(reverse("support:help")).status_code == 200
        with django_assert_max_num_queries(1):
            assert client.get(reverse("support:help"), {"q": "return"}).status_code == 200
        with django_assert_max_num_queries(1):
            response = client.get(reverse("support:article_suggest"), {"subject": "returning"})
        assert response.content.decode().count("list-group-item") == 3
        # A visitor who has said an article helped: her session and her deflections too.
        client.post(reverse("support:article_helped", args=[articles[0].slug]))
        with django_assert_max_num_queries(3):
            assert (
                client.get(reverse("support:article_suggest"), {"q": "return"}).status_code == 200
            )
        with django_assert_max_num_queries(3):
            assert client.get(articles[0].get_absolute_url()).status_code == 200

    def test_picker(self, count, django_assert_max_num_queries):
        many_articles(count)
        inquiry = web_inquiry(subject="Xyzzy")
        client = signed_in(editor())
        # session, user, the inquiry's subject, matching articles, latest articles
        with django_assert_max_num_queries(5):
            response = client.get(reverse("tickets:knowledge:picker"), {"inquiry": inquiry.pk})
        assert response.content.decode().count("data-article-insert") == min(count, 8)
