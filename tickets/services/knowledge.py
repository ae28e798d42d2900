"""Writes of the knowledge base: articles written, edited, published and withdrawn by the call
center, and the deflections customers record when an article answered their question."""

from typing import Any

from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from crm.models import User
from crm.services import audit_record
from customers.models import Customer
from tickets.models import (
    ARTICLE_SLUG_MAX_LENGTH,
    ARTICLE_TITLE_MAX_LENGTH,
    Article,
    ArticleCategory,
    ArticleDeflection,
    DeflectionSource,
)
from tickets.selectors.knowledge import SEARCH_CONFIG, can_edit_articles

BODY_MAX_LENGTH = 50_000
VISITOR_KEY_MAX_LENGTH = 64
# Paths under /support/articles/ that are pages, not articles.
RESERVED_SLUGS = frozenset({"suggest", "search", "new"})


def _check(*, title: str, body: str, category: str, actor: User) -> None:
    if not can_edit_articles(actor):
        raise ValidationError("Only the call center's reps, supervisors and admins edit articles.")
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Give the article a title."]
    elif len(title) > ARTICLE_TITLE_MAX_LENGTH:
        errors["title"] = [f"Keep the title under {ARTICLE_TITLE_MAX_LENGTH} characters."]
    elif not slugify(title):
        errors["title"] = ["Use some letters or digits in the title: its address is made of them."]
    if not body.strip():
        errors["body"] = ["Write the answer."]
    elif len(body) > BODY_MAX_LENGTH:
        errors["body"] = [f"The article is longer than {BODY_MAX_LENGTH:,} characters."]
    if category not in ArticleCategory.values:
        errors["category"] = ["Choose a category."]
    if errors:
        raise ValidationError(errors)


def _unique_slug(title: str) -> str:
    """The title's slug, with -2, -3... when another article (or a page) has it already."""
    base = slugify(title)[: ARTICLE_SLUG_MAX_LENGTH - 4].strip("-") or "article"
    taken = set(Article.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | set(
        RESERVED_SLUGS
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _index(article: Article) -> None:
    """Keep the article's full-text vector current (PostgreSQL; SQLite searches words)."""
    if connection.vendor != "postgresql":
        return
    Article.objects.filter(pk=article.pk).update(
        search_vector=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("body", weight="B", config=SEARCH_CONFIG)
    )


def _data(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "slug": article.slug,
        "category": article.category,
        "published": article.is_published,
    }


@transaction.atomic
def article_create(
    *, title: str, body: str, category: str, publish: bool = False, actor: User
) -> Article:
    """Write a new article, as a draft unless `publish`. Its address (slug) comes from the title
    once and for all, so that links already given to customers keep working after a rename."""
    title = " ".join(title.split())
    _check(title=title, body=body, category=category, actor=actor)
    now = timezone.now()
    article = Article.objects.create(
        title=title,
        slug=_unique_slug(title),
        body=body.strip(),
        category=category,
        is_published=publish,
        published_at=now if publish else None,
        author=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )
    _index(article)
    audit_record(actor=actor, action="article.create", obj=article, data=_data(article))
    return article


@transaction.atomic
def article_update(
    *, article: Article, title: str, body: str, category: str, actor: User
) -> Article:
    """Save changes to an article's words or category; it stays published or draft as it was,
    and keeps its address."""
    title = " ".join(title.split())
    _check(title=title, body=body, category=category, actor=actor)
    article = Article.objects.select_for_update().get(pk=article.pk)
    changed = [
        name
        for name, value in (("title", title), ("body", body.strip()), ("category", category))
        if getattr(article, name) != value
    ]
    if not changed:
        return article
    article.title, article.body, article.category = title, body.strip(), category
    article.updated_by = actor
    article.updated_at = timezone.now()
    article.save(update_fields=[*changed, "updated_by", "updated_at"])
    _index(article)
    audit_record(
        actor=actor,
        action="article.update",
        obj=article,
        data={**_data(article), "changed": changed},
    )
    return article


@transaction.atomic
def article_set_published(*, article: Article, published: bool, actor: User) -> Article:
    """Publish an article (customers see it, it is suggested and listed in acknowledgements) or
    withdraw it to a draft (its page answers 404 from then on). Setting what is already set
    changes nothing."""
    if not can_edit_articles(actor):
        raise ValidationError(
            "Only the call center's reps, supervisors and admins publish articles."
        )
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.is_published == published:
        return article
    now = timezone.now()
    article.is_published = published
    if published:
        article.published_at = now
    article.updated_by = actor
    article.updated_at = now
    article.save(update_fields=["is_published", "published_at", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action="article.publish" if published else "article.unpublish",
        obj=article,
        data=_data(article),
    )
    return article


@transaction.atomic
def article_deflection_record(
    *,
    article: Article,
    visitor_key: str,
    source: str,
    customer: Customer | None = None,
) -> bool:
    """Count that the article answered a visitor's question: once per visitor (her session's
    key) and article, a second click changes nothing. Only published articles count. True when
    this was the first time."""
    if not article.is_published:
        raise ValidationError("This article is not published.")
    if not visitor_key or len(visitor_key) > VISITOR_KEY_MAX_LENGTH:
        raise ValidationError("No visitor to count.")
    if source not in DeflectionSource.values:
        source = DeflectionSource.ARTICLE_PAGE
    _, created = ArticleDeflection.objects.get_or_create(
        article=article,
        visitor_key=visitor_key,
        defaults={"source": source, "customer": customer},
    )
    if created:
        Article.objects.filter(pk=article.pk).update(deflection_count=F("deflection_count") + 1)
    return created
