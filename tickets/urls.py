"""Staff pages of inquiries, under /inquiries/: the agent workspace, call-backs, routing rules,
attachment downloads and the knowledge base."""

from django.urls import include, path

app_name = "tickets"
urlpatterns = [
    path("", include("tickets.workspace_urls")),
    path("rules/", include("tickets.rules_urls")),
    path("attachments/", include("tickets.attachment_urls")),
    path("knowledge/", include("tickets.knowledge_urls")),
]
