from django.contrib import admin
from django.urls import include, path

from crm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.account_home, name="account_home"),
    path("me/data.json", views.account_data, name="account_data"),
    path("healthz", views.healthz, name="healthz"),
    path("bench/floor", views.bench_floor, name="bench_floor"),
    path("accounts/", include("allauth.urls")),
    path("customers/", include("customers.urls")),
    path("orders/", include("orders.urls")),
    path("products/", include("orders.product_urls")),
    path("stores/", include("stores.urls")),
    path("inquiries/", include("tickets.urls")),
    path("", include("tickets.customer_urls")),
    path("inbound/", include("tickets.inbound_urls")),
    path("api/", include("crm.api.urls")),
    path("imports/", include("crm.import_urls")),
    path("reports/", include("crm.reports.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "crm.views.page_not_found"
