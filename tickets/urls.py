"""The agent workspace, under /inquiries/."""

from django.urls import path

from tickets.views import workspace

app_name = "tickets"
urlpatterns = [
    path("<int:inquiry_id>/", workspace.inquiry_detail, name="inquiry"),
]
