"""The knowledge base's pages. Staff, under /inquiries/knowledge/: the list, one article, the
editor with its preview, publishing, and the article picker of the inquiry page. Customers, under
/support/articles/: the help page, one article, the suggestions shown while she writes an
inquiry, and "This answered my question"."""

import secrets
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from crm.models import User
from crm.permissions import HtmxHttpRequest, require
from customers.models import Customer
from tickets.forms.knowledge import ArticleForm
from tickets.models import Article, ArticleCategory, DeflectionSource
from tickets.selectors import knowledge as selectors
from tickets.services import knowledge as services
from tickets.views.customer import is_customer

# Per visitor IP. Typing pauses trigger a suggestion at most every 400 ms; this leaves a fast
# typist room and stops a script from reading the knowledge base through the endpoint.
SUGGEST_RATE = "60/m"
HELPED_RATE = "20/m"
VISITOR_SESSION_KEY = "kb_visitor"

can_read = require(selectors.can_read_articles)
can_edit = require(selectors.can_edit_articles)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(cast(HtmxHttpRequest, request).htmx)


# Staff pages -------------------------------------------------------------------------------

LIST_PARAMETERS = ("search", "category", "status")


def _list_query(request: HttpRequest, **changes: object) -> str:
    """The list's address with one filter changed and the others kept (back to page 1)."""
    params: dict[str, str] = {
        key: str(value) for key, value in request.GET.items() if key in LIST_PARAMETERS and value
    }
    for key, value in changes.items():
        if value in ("", None):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


@can_read
def article_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.ArticleFilters.parse(request.GET.dict())
    page = selectors.article_list_page(
        user=request.user, filters=filters, page=request.GET.get("page", "1")
    )
    base = _list_query(request)
    return render(
        request,
        "tickets/knowledge/list.html",
        {
            "page": page,
            "filters": filters,
            "can_edit": selectors.can_edit_articles(request.user),
            "categories": ArticleCategory.choices,
            "status_choices": list(selectors.STATUS_FILTERS.items()),
            "page_query": base + ("&" if base != "?" else ""),
        },
    )


def _article_or_404(request: HttpRequest, article_id: int) -> Article:
    article = selectors.article_for_staff(user=request.user, article_id=article_id)
    if article is None:
        raise Http404("No such article.")
    return article


@can_read
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(request, article_id)
    return render(
        request,
        "tickets/knowledge/detail.html",
        {
            "article": article,
            "html": selectors.markdown_html(article.body),
            "can_edit": selectors.can_edit_articles(request.user),
            # The address customers are given (in e-mails and replies), whatever host staff use.
            "public_url": f"{settings.CRM_SITE_URL}{article.get_absolute_url()}",
        },
    )


def _edit(request: HttpRequest, article: Article | None) -> HttpResponse:
    initial = (
        {"title": article.title, "category": article.category, "body": article.body}
        if article
        else {}
    )
    form = ArticleForm(request.POST or None, initial=initial)
    action = request.POST.get("action", "save")
    context: dict[str, Any] = {"form": form, "article": article, "preview": None}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if action == "preview":
            context["preview"] = selectors.markdown_html(data["body"])
        else:
            try:
                if article is None:
                    saved = services.article_create(
                        title=data["title"],
                        body=data["body"],
                        category=data["category"],
                        publish=action == "publish",
                        actor=_user(request),
                    )
                else:
                    saved = services.article_update(
                        article=article,
                        title=data["title"],
                        body=data["body"],
                        category=data["category"],
                        actor=_user(request),
                    )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, field_messages in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, field_messages)
                else:
                    form.add_error(None, error.messages)
            else:
                messages.success(request, _saved_message(saved, created=article is None))
                return redirect("tickets:knowledge:detail", saved.pk)
    if action == "preview" and _is_htmx(request):
        # Only the preview is swapped in; the form stays as typed. htmx swaps no 4xx answer.
        return render(request, "tickets/knowledge/_preview.html", context)
    status = 400 if form.errors else 200
    return render(request, "tickets/knowledge/form.html", context, status=status)


def _saved_message(article: Article, *, created: bool) -> str:
    if created:
        state = "published" if article.is_published else "saved as a draft"
        return f"“{article.title}” {state}."
    if article.is_published:
        return f"“{article.title}” saved: customers see the change now."
    return f"“{article.title}” saved."


@can_edit
def article_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@can_edit
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    return _edit(request, _article_or_404(request, article_id))


@require_POST
@can_edit
def article_publish(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(request, article_id)
    published = request.POST.get("published") == "true"
    article = services.article_set_published(
        article=article, published=published, actor=_user(request)
    )
    if article.is_published:
        messages.success(request, f"“{article.title}” is published: customers can find it now.")
    else:
        messages.success(
            request, f"“{article.title}” is a draft again: customers no longer see it."
        )
    return redirect("tickets:knowledge:detail", article.pk)


@require_GET
@can_edit
def article_picker(request: HttpRequest) -> HttpResponse:
    """The inquiry page's article list, searched as the agent types (an htmx fragment)."""
    inquiry = request.GET.get("inquiry", "")
    picker = selectors.article_picker(
        user=request.user,
        search=request.GET.get("search", ""),
        inquiry_id=int(inquiry) if inquiry.isdigit() else None,
    )
    return render(request, "tickets/knowledge/_picker_list.html", {"picker": picker})


# The customer's side -----------------------------------------------------------------------


def _visitor_key(request: HttpRequest, *, create: bool) -> str:
    """A random key in the visitor's session that counts her once per article, signed in or
    not (it survives signing in: the session's data moves with it)."""
    key = request.session.get(VISITOR_SESSION_KEY, "")
    if not key and create:
        key = secrets.token_urlsafe(24)
        request.session[VISITOR_SESSION_KEY] = key
    return str(key)


def _source(value: str) -> str:
    return value if value in DeflectionSource.values else DeflectionSource.ARTICLE_PAGE


def help_index(request: HttpRequest) -> HttpResponse:
    """The customer's help page: every published article by category, or a search."""
    search = " ".join(request.GET.get("q", "").split())[:200]
    sections = selectors.help_index(search=search)
    htmx = cast(HtmxHttpRequest, request).htmx
    # A search typed into the page swaps its results only; a restore from history is a page.
    partial = bool(htmx) and not htmx.history_restore_request
    template = "tickets/knowledge/_help_results.html" if partial else "tickets/knowledge/help.html"
    response = render(request, template, {"sections": sections, "search": search})
    patch_vary_headers(response, ["HX-Request"])
    return response


def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One published article for anyone; a draft or an unknown address is 404."""
    article = selectors.published_article(slug=slug)
    if article is None:
        raise Http404("No such article.")
    helped = selectors.helped_article_ids(
        visitor_key=_visitor_key(request, create=False), articles=[article]
    )
    return render(
        request,
        "tickets/knowledge/article.html",
        {
            "article": article,
            "html": selectors.markdown_html(article.body),
            "helped": article.pk in helped,
            "source": DeflectionSource.ARTICLE_PAGE,
        },
    )


@require_GET
@ratelimit(key="ip", rate=SUGGEST_RATE, group="support.articles.suggest", block=False)
def article_suggest(request: HttpRequest) -> HttpResponse:
    """Up to three published articles matching what the customer is writing (an htmx fragment;
    empty when nothing matches). Over the rate limit: 429, which htmx leaves unswapped."""
    if getattr(request, "limited", False):
        return HttpResponse(status=429)
    text = "\n".join(
        request.GET.get(name, "")[: selectors.QUERY_TEXT_LIMIT]
        for name in ("subject", "message", "q")
    )
    articles = selectors.matching_articles(text, limit=selectors.SUGGESTIONS)
    helped = selectors.helped_article_ids(
        visitor_key=_visitor_key(request, create=False), articles=articles
    )
    return render(
        request,
        "tickets/knowledge/_suggestions.html",
        {
            "articles": articles,
            "helped": helped,
            "source": _source(request.GET.get("source", "")),
        },
    )


def _signed_in_customer(request: HttpRequest) -> Customer | None:
    if not is_customer(request.user):
        return None
    return Customer.objects.filter(user=_user(request), merged_into__isnull=True).first()


@require_POST
@ratelimit(key="ip", rate=HELPED_RATE, group="support.articles.helped", block=False)
def article_helped(request: HttpRequest, slug: str) -> HttpResponse:
    """ "This answered my question": counted once per visitor and article. htmx swaps a thank
    you in place of the button (her inquiry form stays as she left it); without it, back to the
    article with a message."""
    if getattr(request, "limited", False):
        return render(request, "tickets/customer/too_many.html", status=429)
    article = selectors.published_article(slug=slug)
    if article is None:
        raise Http404("No such article.")
    source = _source(request.POST.get("source", ""))
    services.article_deflection_record(
        article=article,
        visitor_key=_visitor_key(request, create=True),
        source=source,
        customer=_signed_in_customer(request),
    )
    if _is_htmx(request):
        return render(
            request, "tickets/knowledge/_helped.html", {"article": article, "source": source}
        )
    messages.success(request, "Thank you: we are glad this answered your question.")
    return redirect(article.get_absolute_url())
