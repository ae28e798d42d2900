"""Writing the knowledge base: who may, what is checked, the address an article keeps, the audit
trail, and deflections counted once per visitor."""

import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditEntry, Role
from tests.factories import CustomerFactory, StoreFactory, UserFactory, store_staff
from tests.tickets.factories_knowledge import article, editor
from tickets.models import Article, ArticleCategory, ArticleDeflection, DeflectionSource
from tickets.services.knowledge import (
    article_create,
    article_deflection_record,
    article_set_published,
    article_update,
)

pytestmark = pytest.mark.django_db


def test_an_article_is_created_as_a_draft_with_an_address_from_its_title():
    rep = editor()
    draft = article_create(
        title="  How do I  return an online order in a store? ",
        body="Bring it to any store.",
        category=ArticleCategory.RETURNS,
        actor=rep,
    )
    assert draft.title == "How do I return an online order in a store?"
    assert draft.slug == "how-do-i-return-an-online-order-in-a-store"
    assert draft.is_published is False and draft.published_at is None
    assert draft.author == rep and draft.updated_by == rep
    entry = AuditEntry.objects.get(action="article.create")
    assert entry.actor == rep and entry.object_id == str(draft.pk)
    assert entry.data["published"] is False


def test_same_titles_get_distinct_addresses_and_pages_are_not_taken():
    first = article("Gift cards")
    second = article("Gift cards")
    assert (first.slug, second.slug) == ("gift-cards", "gift-cards-2")
    assert article("Suggest").slug == "suggest-2"  # /support/articles/suggest/ is a page


def test_a_rename_keeps_the_address_customers_were_given():
    published = article("Pickup hold period")
    renamed = article_update(
        article=published,
        title="How long we hold a pickup",
        body=published.body,
        category=published.category,
        actor=editor(),
    )
    assert renamed.slug == "pickup-hold-period"
    assert AuditEntry.objects.get(action="article.update").data["changed"] == ["title"]


def test_saving_without_a_change_writes_nothing():
    published = article()
    article_update(
        article=published,
        title=published.title,
        body=published.body,
        category=published.category,
        actor=editor(),
    )
    assert not AuditEntry.objects.filter(action="article.update").exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Give the article a title."),
        ({"title": "x" * 201}, "title", "under 200 characters"),
        ({"title": "???"}, "title", "letters or digits"),
        ({"body": "   "}, "body", "Write the answer."),
        ({"body": "x" * 50_001}, "body", "longer than 50,000"),
        ({"category": "gossip"}, "category", "Choose a category."),
    ],
)
def test_bad_articles_are_refused_with_a_clear_message(fields, field, message):
    values = {"title": "Returns", "body": "Any store.", "category": ArticleCategory.RETURNS}
    values.update(fields)
    with pytest.raises(ValidationError) as caught:
        article_create(**values, actor=editor())
    assert message in " ".join(caught.value.message_dict[field])
    assert not Article.objects.exists()


@pytest.mark.parametrize("role", [Role.ASSOCIATE, Role.MANAGER, Role.CUSTOMER])
def test_only_the_call_center_writes_and_publishes(role):
    user = store_staff(StoreFactory(), role) if role != Role.CUSTOMER else UserFactory(role=role)
    with pytest.raises(ValidationError):
        article_create(title="Returns", body="Any store.", category="returns", actor=user)
    draft = article(published=False)
    with pytest.raises(ValidationError):
        article_set_published(article=draft, published=True, actor=user)
    draft.refresh_from_db()
    assert draft.is_published is False


def test_publishing_and_withdrawing_is_audited_once_per_change():
    rep = editor()
    draft = article(published=False, actor=rep)
    published = article_set_published(article=draft, published=True, actor=rep)
    assert published.is_published and published.published_at is not None
    article_set_published(article=draft, published=True, actor=rep)  # already published
    withdrawn = article_set_published(article=draft, published=False, actor=rep)
    assert withdrawn.is_published is False
    assert list(
        AuditEntry.objects.filter(action__startswith="article.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["article.create", "article.publish", "article.unpublish"]


def test_a_deflection_counts_once_per_visitor_and_article():
    answer, other = article("Returns"), article("Refunds")
    maya = CustomerFactory()

    assert article_deflection_record(
        article=answer, visitor_key="visitor-a", source=DeflectionSource.INQUIRY_FORM, customer=maya
    )
    assert not article_deflection_record(
        article=answer, visitor_key="visitor-a", source=DeflectionSource.ARTICLE_PAGE
    )
    assert article_deflection_record(
        article=answer, visitor_key="visitor-b", source=DeflectionSource.ARTICLE_PAGE
    )
    assert article_deflection_record(
        article=other, visitor_key="visitor-a", source=DeflectionSource.HELP_SEARCH
    )

    answer.refresh_from_db()
    other.refresh_from_db()
    assert (answer.deflection_count, other.deflection_count) == (2, 1)
    first = ArticleDeflection.objects.get(article=answer, visitor_key="visitor-a")
    assert first.customer == maya and first.source == DeflectionSource.INQUIRY_FORM


def test_a_draft_counts_no_deflection():
    draft = article(published=False)
    with pytest.raises(ValidationError):
        article_deflection_record(
            article=draft, visitor_key="v", source=DeflectionSource.ARTICLE_PAGE
        )
    assert not ArticleDeflection.objects.exists()
