"""The REST API: /api/v1/ (each app's endpoints), the OpenAPI schema and its documentation,
served offline (drf-spectacular-sidecar)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

app_name = "api"
urlpatterns = [
    path("v1/", include("customers.api.urls")),
    path("v1/", include("customers.api.engagement_urls")),
    path("v1/", include("orders.api.urls")),
    path("v1/", include("tickets.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
