"""The customer's side: the web form, the portal's inquiries, the help articles and the tracking
pages."""

from django.urls import include, path

from tickets.views import customer

app_name = "support"
urlpatterns = [
    path("contact/", customer.contact, name="contact"),
    path("contact/thanks/", customer.contact_sent, name="contact_sent"),
    path("support/", customer.portal, name="portal"),
    path("support/call-me/", customer.callback_new, name="callback"),
    # Before support/<key>/: "articles" is no inquiry's reference.
    path("support/articles/", include("tickets.article_urls")),
    path("support/<str:key>/", customer.portal_inquiry, name="portal_inquiry"),
    path("support/<str:key>/reply/", customer.portal_inquiry_reply, name="portal_inquiry_reply"),
    path("support/<str:key>/reopen/", customer.portal_inquiry_reopen, name="portal_inquiry_reopen"),
    path("support/<str:key>/rate/", customer.portal_inquiry_rate, name="portal_inquiry_rate"),
    path(
        "support/<str:key>/call-me/",
        customer.portal_inquiry_callback,
        name="portal_inquiry_callback",
    ),
    path(
        "support/<str:key>/attachments/<int:attachment_id>/",
        customer.portal_inquiry_attachment,
        name="portal_inquiry_attachment",
    ),
    path("track/<str:token>/", customer.track, name="track"),
    path("track/<str:token>/reply/", customer.track_reply, name="track_reply"),
    path("track/<str:token>/reopen/", customer.track_reopen, name="track_reopen"),
    path("track/<str:token>/rate/", customer.track_rate, name="track_rate"),
    path(
        "track/<str:token>/attachments/<int:attachment_id>/",
        customer.track_attachment,
        name="track_attachment",
    ),
]
