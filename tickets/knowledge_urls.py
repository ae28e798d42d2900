"""The knowledge base's staff pages, under /inquiries/knowledge/ (namespace tickets:knowledge)."""

from django.urls import path

from tickets.views import knowledge

app_name = "knowledge"
urlpatterns = [
    path("", knowledge.article_list, name="list"),
    path("new/", knowledge.article_create, name="new"),
    path("picker/", knowledge.article_picker, name="picker"),
    path("<int:article_id>/", knowledge.article_detail, name="detail"),
    path("<int:article_id>/edit/", knowledge.article_edit, name="edit"),
    path("<int:article_id>/publish/", knowledge.article_publish, name="publish"),
]
