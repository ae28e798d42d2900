"""Knowledge-base articles for tests, written through the article services (which keep their
full-text vector current), as staff would write them."""

from typing import Any

from crm.models import Role, User
from tests.factories import UserFactory
from tickets.models import Article, ArticleCategory
from tickets.services.knowledge import article_create


def editor(**fields: Any) -> User:
    """A rep: the call center writes the knowledge base."""
    user: User = UserFactory(role=Role.REP, **fields)
    return user


def article(
    title: str = "How store pickup works",
    body: str = "We hold your order at the store for 7 days.",
    *,
    category: str = ArticleCategory.PICKUP,
    published: bool = True,
    actor: User | None = None,
) -> Article:
    return article_create(
        title=title,
        body=body,
        category=category,
        publish=published,
        actor=actor or editor(),
    )


def many_articles(
    count: int, *, published: bool = True, actor: User | None = None
) -> list[Article]:
    """`count` distinct articles about returns, for query budgets and paging."""
    actor = actor or editor()
    return [
        article(
            f"Returning item number {n}",
            f"How to return item {n} in a store or by post, and when the refund arrives.",
            category=ArticleCategory.RETURNS,
            published=published,
            actor=actor,
        )
        for n in range(count)
    ]
