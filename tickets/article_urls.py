"""The customer's help articles, under /support/articles/ (in the support namespace)."""

from django.urls import path

from tickets.views import knowledge

urlpatterns = [
    path("", knowledge.help_index, name="help"),
    path("suggest/", knowledge.article_suggest, name="article_suggest"),
    path("<slug:slug>/", knowledge.article_page, name="article"),
    path("<slug:slug>/helped/", knowledge.article_helped, name="article_helped"),
]
