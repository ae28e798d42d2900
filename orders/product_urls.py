from django.urls import path

from orders import views

app_name = "products"
urlpatterns = [
    path("", views.product_search, name="search"),
    path("<str:sku>/", views.product_detail, name="detail"),
]
