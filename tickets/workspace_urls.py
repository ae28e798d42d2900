from django.urls import path

from tickets.views import workspace

urlpatterns = [
    path("<int:inquiry_id>/", workspace.inquiry_detail, name="inquiry"),
]
