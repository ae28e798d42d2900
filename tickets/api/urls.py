"""The tickets endpoints of the REST API."""

from django.urls import path, re_path

from tickets.api import views

urlpatterns = [
    path("inquiries/", views.InquiryCreateView.as_view(), name="inquiry-list"),
    path("inquiries/<str:reference>/", views.InquiryDetailView.as_view(), name="inquiry-detail"),
    path(
        "inquiries/<str:reference>/messages/",
        views.InquiryMessageCreateView.as_view(),
        name="inquiry-messages",
    ),
    re_path(
        r"^customers/(?P<pk>-?[0-9]+)/inquiries/$",
        views.CustomerInquiriesView.as_view(),
        name="customer-inquiries",
    ),
]
