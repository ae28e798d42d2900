"""The customer's side: the web form, the portal's inquiries and the tracking pages."""

from django.urls import path

from tickets.views import customer

app_name = "support"
urlpatterns = [
    path("track/<str:token>/", customer.track, name="track"),
]
