"""/api/v1/orders/, /api/v1/pickups/ and /api/v1/returns/ (in the "api" namespace)."""

from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders/", views.OrderListCreate.as_view(), name="order-list"),
    path("orders/bulk/", views.OrderBulk.as_view(), name="order-bulk"),
    path("orders/<str:number>/", views.OrderDetail.as_view(), name="order-detail"),
    path("orders/<str:number>/status/", views.OrderStatusUpdate.as_view(), name="order-status"),
    path("pickups/", views.PickupList.as_view(), name="pickup-list"),
    path("pickups/<int:pk>/", views.PickupDetail.as_view(), name="pickup-detail"),
    path("pickups/<int:pk>/status/", views.PickupStatusUpdate.as_view(), name="pickup-status"),
    path("pickups/<int:pk>/collect/", views.PickupCollect.as_view(), name="pickup-collect"),
    path("returns/", views.ReturnListCreate.as_view(), name="return-list"),
    path("returns/<int:pk>/", views.ReturnDetail.as_view(), name="return-detail"),
]
