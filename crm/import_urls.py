"""The admin's CSV upload page for legacy customers and orders; included under /imports/."""

from django.urls import path

from crm import views_import

app_name = "imports"

urlpatterns = [
    path("", views_import.upload, name="upload"),
]
