"""The REST API: /api/v1/ (each app's endpoints), the OpenAPI schema and its documentation,
served offline (drf-spectacular-sidecar) under the site's Content-Security-Policy: Swagger UI
loads its start-up script from its own URL instead of inline. (ReDoc needs inline styles, script
workers from blob: URLs and a logo from its CDN; its old address leads to Swagger UI.)"""

from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

app_name = "api"
urlpatterns = [
    path("v1/", include("customers.api.urls")),
    path("v1/", include("customers.api.engagement_urls")),
    path("v1/", include("orders.api.urls")),
    path("v1/", include("tickets.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    path("redoc/", RedirectView.as_view(pattern_name="api:docs", permanent=True), name="redoc"),
]
