from django.urls import URLPattern, path

from stores.views import dashboard, inquiries, orders, pickups, returns

app_name = "stores"
urlpatterns: list[URLPattern] = [
    path("", pickups.store_index, name="index"),
    path("<slug:code>/", dashboard.store_dashboard, name="dashboard"),
    path("<slug:code>/pickups/", pickups.pickup_counter, name="pickups"),
    path(
        "<slug:code>/pickups/<int:pickup_id>/<slug:action>/",
        pickups.pickup_action,
        name="pickup_action",
    ),
    path("<slug:code>/orders/new/", orders.kiosk_order, name="order_new"),
    path("<slug:code>/inquiries/new/", inquiries.store_inquiry_new, name="inquiry_new"),
    path("<slug:code>/returns/", returns.returns_desk, name="returns"),
    path("<slug:code>/returns/today/", returns.returns_today, name="returns_today"),
    path(
        "<slug:code>/returns/customers/<int:customer_id>/",
        returns.returns_customer,
        name="returns_customer",
    ),
    path("<slug:code>/returns/orders/<str:number>/", returns.returns_order, name="returns_order"),
    path(
        "<slug:code>/returns/<str:number>/receive/",
        returns.return_receive_parcel,
        name="return_receive",
    ),
    path("<slug:code>/returns/<str:number>/", returns.return_receipt, name="return_receipt"),
]
