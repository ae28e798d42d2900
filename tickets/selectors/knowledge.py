"""Reads of the knowledge base: the staff list, one article, the customer's help pages, the
suggestions shown while she writes, the articles an acknowledgement lists, and the agents'
article picker. Also how an article's Markdown becomes safe HTML and plain text.

Who sees what: reps, supervisors and admins (who edit) see drafts and published articles; store
staff read published ones; customers and visitors see published articles only, drafts are 404.

Search: on PostgreSQL a full-text match (English stemming, title weighted over body) on the GIN-
indexed search vector, ranked by ts_rank. What a customer writes is a sentence, not a query, so
its words are OR-ed: the best-ranked articles sharing the most telling words come first. The demo
runs on SQLite, where the same functions fall back to a plain word match.
"""

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import nh3
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

from crm.permissions import AnyUser, can_work_inquiries, is_staff_member
from tickets.models import Article, ArticleCategory, ArticleDeflection
from tickets.selectors.workspace import visible_inquiries

logger = logging.getLogger(__name__)

SEARCH_CONFIG = "english"
STAFF_PAGE_SIZE = 25
PUBLIC_LIMIT = 50
SUGGESTIONS = 3
PICKER_LIMIT = 8
# What a customer wrote is cut to this before it becomes a query: the lookup stays bounded
# however long the message is.
QUERY_TEXT_LIMIT = 2000
QUERY_WORDS = 32
# The acknowledgement waits at most this long for its articles; it goes out without them after.
ACKNOWLEDGEMENT_LOOKUP_MS = 500
# SQLite's word match: at most this many words, among this many candidates.
FALLBACK_WORDS = 8
FALLBACK_CANDIDATES = 50

WORD = re.compile(r"\w+")
# websearch_to_tsquery reads "or" as its operator; the other words are plain terms.
QUERY_OPERATORS = frozenset({"or"})


# Permissions -------------------------------------------------------------------------------


def can_edit_articles(user: AnyUser) -> bool:
    """The call center writes the answers it gives: reps, supervisors and admins."""
    return can_work_inquiries(user)


def can_read_articles(user: AnyUser) -> bool:
    """Every employee may read the knowledge base (published articles for store staff)."""
    return is_staff_member(user)


def visible_articles(user: AnyUser) -> QuerySet[Article]:
    """The articles a staff member may open: all for editors, published ones for other staff."""
    if can_edit_articles(user):
        return Article.objects.all()
    if can_read_articles(user):
        return Article.objects.filter(is_published=True)
    return Article.objects.none()


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(is_published=True)


# Markdown ----------------------------------------------------------------------------------

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "em",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
LINK_REL = "noopener noreferrer nofollow"


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML off: anything that looks like a tag is shown as text. Tables for
    # size charts and opening hours.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _tokens(source: str) -> list[Token]:
    tokens = _markdown().parse(source)
    # The page's title is its only h1: the article's own headings start one level below.
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return tokens


def markdown_html(source: str) -> SafeString:
    """An article's Markdown as HTML that is safe to show: markdown-it refuses raw HTML and
    dangerous link schemes, and nh3 keeps only the allowed tags, attributes and URL schemes, so
    that neither a mistake nor a pasted snippet can run script on the customer's page."""
    rendered = _markdown().renderer.render(_tokens(source), _markdown().options, {})
    cleaned = nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        filter_style_properties={"text-align"},
        set_tag_attribute_values={"table": {"class": "table table-sm"}},
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just sanitised it


def _absolute(href: str) -> str:
    return f"{settings.CRM_SITE_URL}{href}" if href.startswith("/") else href


def _inline_text(children: Iterable[Token]) -> str:
    parts: list[str] = []
    links: list[tuple[str, int]] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "link_open":
            links.append((str(child.attrGet("href") or ""), len(parts)))
        elif child.type == "link_close" and links:
            href, start = links.pop()
            label = "".join(parts[start:])
            if href and href not in (label, f"mailto:{label}", f"tel:{label}"):
                parts.append(f" ({_absolute(href)})")
    return "".join(parts)


def markdown_text(source: str) -> str:
    """An article's Markdown as plain text for a reply: the words, list markers and each link's
    address in brackets, without the Markdown's asterisks and brackets."""
    lines: list[str] = []
    lists: list[int | None] = []  # per open list: the next number, or None for bullets
    marker = ""
    quote = 0
    row: list[str] | None = None
    for token in _tokens(source):
        kind = token.type
        if kind == "bullet_list_open":
            lists.append(None)
        elif kind == "ordered_list_open":
            lists.append(int(token.attrGet("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                lines.append("")
        elif kind == "list_item_open":
            number = lists[-1]
            if number is None:
                marker = "- "
            else:
                marker = f"{number}. "
                lists[-1] = number + 1
            marker = "  " * (len(lists) - 1) + marker
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            lines.append(" | ".join(row))
            row = None
        elif kind == "table_close":
            lines.append("")
        elif kind == "inline":
            text = _inline_text(token.children or [])
            if row is not None:
                row.append(text)
                continue
            indent = marker or ("  " * len(lists))
            marker = ""
            prefix = "> " * quote
            for n, line in enumerate(text.split("\n")):
                lines.append(prefix + (indent if n == 0 else " " * len(indent)) + line)
        elif kind in ("paragraph_close", "heading_close") and not lists:
            lines.append("> " * quote if quote else "")
        elif kind in ("fence", "code_block"):
            lines.extend(token.content.rstrip("\n").split("\n"))
            lines.append("")
        elif kind == "hr":
            lines.extend(["———", ""])
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Search ------------------------------------------------------------------------------------


def query_words(text: str, limit: int = QUERY_WORDS) -> list[str]:
    """The distinct words of what someone wrote, in order, without numbers and very short words,
    at most `limit` of them from its first QUERY_TEXT_LIMIT characters."""
    words: list[str] = []
    for word in WORD.findall(text[:QUERY_TEXT_LIMIT].lower()):
        word = word.strip("_")
        if len(word) < 3 or word.isdigit() or word in QUERY_OPERATORS or word in words:
            continue
        words.append(word)
        if len(words) == limit:
            break
    return words


def _crude_stem(word: str) -> str:
    """SQLite has no stemmer: "returning" and "returns" both look for "return"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _rank_by_words(
    articles: QuerySet[Article], words: list[str], limit: int, *, any_word: bool
) -> list[Article]:
    """The SQLite fallback: articles with words starting like these in their title or body
    ("dress" is not "address"), those with more of them (a title counting thrice) first."""
    stems = list(dict.fromkeys(_crude_stem(word) for word in words if len(word) >= 4))
    stems = stems[:FALLBACK_WORDS] or words[:FALLBACK_WORDS]
    if not stems:
        return []
    starts = [rf"\b{re.escape(stem)}" for stem in stems]
    conditions = [Q(title__iregex=start) | Q(body__iregex=start) for start in starts]
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = (combined | condition) if any_word else (combined & condition)
    candidates = list(
        articles.filter(combined).order_by("-updated_at", "-id")[:FALLBACK_CANDIDATES]
    )
    compiled = [re.compile(start, re.IGNORECASE) for start in starts]

    def score(article: Article) -> int:
        return sum(
            3 if start.search(article.title) else 1 if start.search(article.body) else 0
            for start in compiled
        )

    return sorted(candidates, key=lambda article: (-score(article), article.title))[:limit]


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _searched(articles: QuerySet[Article], text: str, *, any_word: bool) -> QuerySet[Article]:
    """PostgreSQL: the articles matching `text`, best first (annotated with `rank`)."""
    words = query_words(text)
    phrase = " or ".join(words) if any_word else text[:QUERY_TEXT_LIMIT]
    query = SearchQuery(phrase, search_type="websearch", config=SEARCH_CONFIG)
    return (
        articles.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "title", "id")
    )


def matching_articles(
    text: str, *, articles: QuerySet[Article] | None = None, limit: int = SUGGESTIONS
) -> list[Article]:
    """The published articles (or `articles`) that best answer what a customer wrote, at most
    `limit`: none when no word of it matches."""
    articles = published_articles() if articles is None else articles
    words = query_words(text)
    if not words:
        return []
    if not _on_postgresql():
        return _rank_by_words(articles, words, limit, any_word=True)
    return list(_searched(articles, text, any_word=True)[:limit])


def articles_for_acknowledgements(inquiries: Sequence[tuple[str, str]]) -> list[list[Article]]:
    """Up to three published articles matching each inquiry (subject, text), for their
    acknowledgements. The lookups are bounded (their words, their limit, and a statement timeout
    on PostgreSQL), and a failure only leaves the articles out: the acknowledgements must go."""
    found: list[list[Article]] = []
    if not inquiries:
        return found
    try:
        with transaction.atomic():  # a savepoint: a timeout leaves the caller's work intact
            previous = _limit_statement_time(ACKNOWLEDGEMENT_LOOKUP_MS)
            for subject, text in inquiries:
                found.append(matching_articles(f"{subject}\n{text}", limit=SUGGESTIONS))
            _limit_statement_time(previous)
            return found
    except DatabaseError:
        logger.warning("Articles for an acknowledgement could not be looked up.", exc_info=True)
        return [*found, *([] for _ in inquiries[len(found) :])]


def _limit_statement_time(milliseconds: int | str | None) -> str | None:
    """Set this transaction's statement timeout (PostgreSQL), returning the one it replaced."""
    if not _on_postgresql() or milliseconds is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), "
            "set_config('statement_timeout', %s, true)",
            [str(milliseconds)],
        )
        row = cursor.fetchone()
    return str(row[0]) if row else None


# The staff pages ---------------------------------------------------------------------------

STATUS_FILTERS = {"": "Published and drafts", "published": "Published", "draft": "Drafts"}


@dataclass(frozen=True)
class ArticleFilters:
    search: str = ""
    category: str = ""
    status: str = ""

    @classmethod
    def parse(cls, params: dict[str, str]) -> "ArticleFilters":
        """Unknown values fall back to "any": a hand-edited address still shows a page."""
        category = params.get("category", "")
        status = params.get("status", "")
        return cls(
            search=" ".join(params.get("search", "").split())[:200],
            category=category if category in ArticleCategory.values else "",
            status=status if status in STATUS_FILTERS else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.search or self.category or self.status)


def article_list_page(*, user: AnyUser, filters: ArticleFilters, page: str | int = 1) -> Page:
    """One page of the staff list: most recently updated first, or best match first when
    searching (PostgreSQL full text; a word match on SQLite). Two queries: count and page."""
    articles = visible_articles(user).select_related("updated_by")
    if filters.category:
        articles = articles.filter(category=filters.category)
    if filters.status == "published":
        articles = articles.filter(is_published=True)
    elif filters.status == "draft":
        articles = articles.filter(is_published=False)
    if filters.search:
        if _on_postgresql():
            articles = _searched(articles, filters.search, any_word=False)
        else:
            words = query_words(filters.search)
            found = _rank_by_words(articles, words, FALLBACK_CANDIDATES, any_word=False)
            return Paginator(found, STAFF_PAGE_SIZE).get_page(page)
    else:
        articles = articles.order_by("-updated_at", "-id")
    return Paginator(articles, STAFF_PAGE_SIZE).get_page(page)


def article_for_staff(*, user: AnyUser, article_id: int) -> Article | None:
    return (
        visible_articles(user).select_related("author", "updated_by").filter(pk=article_id).first()
    )


# The customer's side -----------------------------------------------------------------------


def published_article(*, slug: str) -> Article | None:
    return published_articles().filter(slug=slug).first()


@dataclass(frozen=True)
class HelpSection:
    category: str
    label: str
    articles: list[Article]


def help_index(*, search: str = "") -> list[HelpSection]:
    """The help page: the published articles by category (without their bodies), or those
    matching a search, best first. One query."""
    if search:
        found = matching_articles(search, limit=PUBLIC_LIMIT)
        return [HelpSection("", "Matching articles", found)] if found else []
    articles = published_articles().only("title", "slug", "category", "updated_at")
    by_category: dict[str, list[Article]] = {}
    for article in articles.order_by("category", "title", "id")[: PUBLIC_LIMIT * 4]:
        by_category.setdefault(article.category, []).append(article)
    return [
        HelpSection(value, str(label), by_category[value])
        for value, label in ArticleCategory.choices
        if value in by_category
    ]


def helped_article_ids(*, visitor_key: str, articles: Iterable[Article]) -> set[int]:
    """Which of these articles the visitor already said answered her question."""
    ids = [article.pk for article in articles]
    if not visitor_key or not ids:
        return set()
    return set(
        ArticleDeflection.objects.filter(visitor_key=visitor_key, article_id__in=ids).values_list(
            "article_id", flat=True
        )
    )


# The agents' article picker ----------------------------------------------------------------


@dataclass(frozen=True)
class PickerArticle:
    article: Article
    # What "Insert" puts into the reply: the article as plain text and its public address.
    insert: str
    url: str


@dataclass(frozen=True)
class Picker:
    rows: list[PickerArticle]
    search: str
    # What the rows are: "matching" the search or the inquiry, or the "latest" articles.
    kind: str


def article_picker(*, user: AnyUser, search: str = "", inquiry_id: int | None = None) -> Picker:
    """Published articles an agent may insert into a reply: those matching what she typed, or
    else those matching the inquiry she is answering (its subject), or else the latest. Nothing
    for who cannot reply. At most three queries."""
    if not can_edit_articles(user):
        return Picker(rows=[], search=search, kind="matching")
    search = " ".join(search.split())[:200]
    if search:
        found, kind = matching_articles(search, limit=PICKER_LIMIT), "matching"
    else:
        subject = (
            visible_inquiries(user).filter(pk=inquiry_id).values_list("subject", flat=True).first()
            if inquiry_id is not None
            else None
        )
        found, kind = matching_articles(subject or "", limit=PICKER_LIMIT), "suggested"
        if not found:
            found = list(published_articles().order_by("-updated_at", "-id")[:PICKER_LIMIT])
            kind = "latest"
    rows = []
    for article in found:
        url = f"{settings.CRM_SITE_URL}{article.get_absolute_url()}"
        rows.append(
            PickerArticle(
                article=article,
                insert=f"{article.title}\n\n{markdown_text(article.body)}\n\nRead it online: {url}",
                url=url,
            )
        )
    return Picker(rows=rows, search=search, kind=kind)
