from django.urls import path

from customers import views, views_engagement

app_name = "customers"
urlpatterns = [
    path("", views.customer_search, name="search"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:customer_id>/comments/", views.comment_create, name="comment_create"),
    path("<int:customer_id>/calls/", views.call_log, name="call_log"),
    path("<int:customer_id>/callbacks/", views.callback_create, name="callback_request"),
    path("<int:customer_id>/offers/", views_engagement.customer_offers, name="offers"),
    path("<int:customer_id>/visits/", views_engagement.customer_visits, name="visits"),
    path("<int:customer_id>/wish-list/", views_engagement.customer_wish_list, name="wishlist"),
    path("<int:customer_id>/carts/", views_engagement.customer_carts, name="carts"),
    path("<int:customer_id>/recent-offers/", views_engagement.recent_offers, name="recent_offers"),
    path("insights/settings/", views.insight_thresholds, name="insight_thresholds"),
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
