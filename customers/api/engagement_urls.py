"""Marketing touches and web activity under /api/v1/ (names in the "api" namespace)."""

from django.urls import path

from customers.api import engagement_views as views

urlpatterns = [
    path("touches/", views.TouchListView.as_view(), name="touch-list"),
    path("touches/bulk/", views.TouchBulkView.as_view(), name="touch-bulk"),
    path("touches/<int:pk>/", views.TouchDetailView.as_view(), name="touch-detail"),
    path("touches/<int:pk>/events/", views.TouchEventView.as_view(), name="touch-events"),
    path("web-activity/visits/", views.VisitView.as_view(), name="visit-list"),
    path("web-activity/wishlist/", views.WishListView.as_view(), name="wishlist"),
    path(
        "web-activity/carts/abandoned/",
        views.CartAbandonedView.as_view(),
        name="cart-abandoned",
    ),
    path(
        "web-activity/carts/<str:external_id>/recovered/",
        views.CartRecoveredView.as_view(),
        name="cart-recovered",
    ),
    path("web-activity/bulk/", views.WebActivityBulkView.as_view(), name="web-activity-bulk"),
]
