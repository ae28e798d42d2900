"""The knowledge base in a real browser: an agent inserts an article into her reply with one
click; a customer writing to us is offered the answer and says it helped, her form untouched;
staff write an article with a preview. Screenshots go to var/screenshots/knowledge-*.png."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, expect

from crm.demo.knowledge import knowledge_write
from crm.models import Role
from tests.e2e.conftest import log_in
from tests.factories import CustomerFactory, UserFactory, web_inquiry
from tickets.models import Article

pytestmark = pytest.mark.e2e

RETURNS = "Returns and exchanges: how to send something back"


@pytest.fixture
def desk(transactional_db: None) -> dict[str, object]:
    rep = UserFactory(
        role=Role.REP, first_name="Rita", last_name="Reyes", email="rita@retail.example"
    )
    knowledge_write(author=rep)
    inquiry = web_inquiry(
        subject="Returning a jacket I bought online",
        text="Hello, the rain jacket is too small. Can I bring it back to the SoHo store?",
    )
    return {"rep": rep, "inquiry": inquiry}


def test_an_agent_inserts_an_article_into_her_reply_with_one_click(
    live_server, desk: dict, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    page = new_context().new_page()
    log_in(page, live_server.url, desk["rep"].email)
    page.goto(f"{live_server.url}/inquiries/{desk['inquiry'].pk}/")

    reply = page.get_by_label("Reply to the customer")
    reply.fill("Hello Maya,\n\nThank you for writing.")
    page.get_by_role("button", name="Insert an article").click()
    expect(page.get_by_text("Matching this inquiry")).to_be_visible()
    article = page.get_by_role("button", name=re.compile(re.escape(RETURNS)))
    expect(article).to_be_visible()
    # Bootstrap marks the panel "show" once it has finished opening.
    expect(page.locator("#article-picker")).to_have_class(re.compile(r"\bshow\b"))
    page.screenshot(path=screenshots / "knowledge-picker.png", full_page=True)

    article.click()

    slug = Article.objects.get(title=RETURNS).slug
    value = reply.input_value()
    assert value.startswith("Hello Maya,\n\nThank you for writing.\n\n" + RETURNS + "\n\n")
    assert "Bring the item to any store: you don't need a receipt." in value
    assert "**" not in value  # plain text, not Markdown
    assert value.rstrip().endswith(
        f"Read it online: {settings.CRM_SITE_URL}/support/articles/{slug}/"
    )
    expect(reply).to_be_focused()
    expect(page.locator("#article-picker-status")).to_have_text(
        f"“{RETURNS}” inserted into the reply."
    )

    # Searching finds another article; Enter in the search box never sends the reply.
    search = page.get_by_label("Search the knowledge base")
    search.fill("gift card")
    search.press("Enter")
    expect(page.get_by_role("button", name=re.compile("Gift cards: balance"))).to_be_visible()
    assert page.url.endswith(f"/inquiries/{desk['inquiry'].pk}/")
    reply.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "knowledge-insert.png", full_page=True)


def test_a_customer_is_offered_the_answer_while_she_writes(
    live_server, desk: dict, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    page = new_context().new_page()
    page.goto(f"{live_server.url}/contact/")
    page.get_by_label("Your name").fill("Maya Lopez")
    page.get_by_label("E-mail").fill("maya@example.com")
    page.get_by_label("Subject").fill("returning a jacket")
    page.get_by_label("Your message").type("It is too small, can I bring it to a store?")

    suggestions = page.locator("#article-suggestions")
    expect(suggestions.get_by_role("link", name=re.compile(re.escape(RETURNS)))).to_be_visible()
    expect(suggestions.get_by_role("listitem")).to_have_count(3)
    page.screenshot(path=screenshots / "knowledge-suggestions.png", full_page=True)

    suggestions.get_by_role(
        "button", name=re.compile(f"This answered my question: {RETURNS}")
    ).click()
    expect(suggestions.get_by_text("glad this answered your question")).to_be_visible()
    # Her form is as she left it.
    expect(page.get_by_label("Subject")).to_have_value("returning a jacket")
    expect(page.get_by_label("Your message")).to_have_value(
        "It is too small, can I bring it to a store?"
    )
    assert Article.objects.get(title=RETURNS).deflection_count == 1
    page.screenshot(path=screenshots / "knowledge-helped.png", full_page=True)

    page.goto(f"{live_server.url}{Article.objects.get(title=RETURNS).get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text(RETURNS)
    # She said so already: the article thanks her instead of counting her twice.
    expect(page.get_by_text("glad this answered your question")).to_be_visible()
    page.screenshot(path=screenshots / "knowledge-article.png", full_page=True)


def test_staff_write_an_article_with_a_preview(
    live_server, desk: dict, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    page = new_context().new_page()
    log_in(page, live_server.url, desk["rep"].email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Knowledge base").click()
    expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    expect(page.get_by_text("Draft", exact=True)).to_have_count(1)
    page.screenshot(path=screenshots / "knowledge-list.png", full_page=True)

    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("Can someone else collect my order?")
    page.get_by_label("Category").select_option(label="Store pickup")
    page.get_by_label("Answer").fill(
        "Yes: give them the **pickup code**.\n\n- Any store\n- Any day"
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#article-preview")
    expect(preview.locator("strong")).to_have_text("pickup code")
    expect(page.get_by_label("Title")).to_have_value("Can someone else collect my order?")
    page.screenshot(path=screenshots / "knowledge-editor.png", full_page=True)

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Can someone else collect my order?")
    expect(page.get_by_text("published.")).to_be_visible()
    page.screenshot(path=screenshots / "knowledge-detail.png", full_page=True)


def test_a_customer_finds_answers_from_her_portal_and_the_help_page(
    live_server, desk: dict, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    user = UserFactory(role=Role.CUSTOMER, first_name="Maya", email="maya.portal@example.com")
    CustomerFactory(user=user, first_name="Maya", last_name="Lopez")
    page = new_context().new_page()
    log_in(page, live_server.url, user.email)
    page.goto(f"{live_server.url}/support/")

    page.get_by_role("searchbox", name="Find an answer right away").type(
        "how long is my pickup held"
    )
    suggestions = page.locator("#article-suggestions")
    expect(
        suggestions.get_by_role("link", name=re.compile("pickup", re.IGNORECASE)).first
    ).to_be_visible()
    page.screenshot(path=screenshots / "knowledge-portal.png", full_page=True)

    page.get_by_role("button", name="Search help").click()
    expect(page).to_have_url(re.compile(r"/support/articles/\?q=how\+long"))
    expect(page.get_by_role("heading", name="Matching articles")).to_be_visible()
    page.get_by_label("What can we help you with?").fill("")
    page.get_by_label("What can we help you with?").press("Enter")
    expect(page.get_by_role("heading", name="Returns & refunds")).to_be_visible()
    expect(page.get_by_text("Price match and price adjustments")).to_have_count(0)  # a draft
    page.screenshot(path=screenshots / "knowledge-help.png", full_page=True)
