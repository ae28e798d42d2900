"""The customers endpoints of the REST API."""

from django.urls import path, re_path

from customers.api import views

urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/bulk/", views.CustomerBulkView.as_view(), name="customer-bulk"),
    # Any integer, negative or too large included, reaches the view, which answers 404 in the
    # API's error shape (not Django's HTML page).
    re_path(
        r"^customers/(?P<pk>-?[0-9]+)/$",
        views.CustomerDetailView.as_view(),
        name="customer-detail",
    ),
    re_path(
        r"^customers/(?P<pk>-?[0-9]+)/timeline/$",
        views.CustomerTimelineView.as_view(),
        name="customer-timeline",
    ),
    re_path(
        r"^customers/(?P<pk>-?[0-9]+)/merge/$",
        views.CustomerMergeView.as_view(),
        name="customer-merge",
    ),
]
