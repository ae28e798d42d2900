from django.urls import path

from crm.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.reports_home, name="home"),
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/<slug:chart>.csv", views.download, name="download"),
]
