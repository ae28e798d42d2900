from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_search, name="search"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:customer_id>/comments/", views.comment_create, name="comment_create"),
    path("<int:customer_id>/calls/", views.call_log, name="call_log"),
    path("<int:customer_id>/callbacks/", views.callback_create, name="callback_request"),
    path("merge-suggestions/", views.merge_suggestion_list, name="merge_list"),
    path(
        "merge-suggestions/<int:suggestion_id>/", views.merge_suggestion_detail, name="merge_detail"
    ),
    path(
        "merge-suggestions/<int:suggestion_id>/dismiss/",
        views.merge_suggestion_dismiss,
        name="merge_dismiss",
    ),
]
