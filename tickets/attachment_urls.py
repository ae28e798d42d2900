"""Attachment downloads, under /inquiries/attachments/ in the "tickets" namespace."""

from django.urls import path

from tickets.views import attachments

urlpatterns = [
    path("<int:pk>/", attachments.download, name="attachment"),
]
