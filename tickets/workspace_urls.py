"""The agent workspace under /inquiries/: the list, one inquiry and its actions, call-backs."""

from django.urls import path

from tickets.views import workspace

urlpatterns = [
    path("", workspace.inquiry_list, name="queue"),
    path("callbacks/", workspace.callback_list, name="callbacks"),
    path(
        "callbacks/<int:callback_id>/outcome/",
        workspace.callback_outcome,
        name="callback_outcome",
    ),
    path("<int:inquiry_id>/", workspace.inquiry_detail, name="inquiry"),
    path("<int:inquiry_id>/reply/", workspace.inquiry_reply, name="reply"),
    path("<int:inquiry_id>/note/", workspace.inquiry_note, name="note"),
    path("<int:inquiry_id>/status/", workspace.inquiry_status, name="status"),
    path("<int:inquiry_id>/priority/", workspace.inquiry_priority, name="priority"),
    path("<int:inquiry_id>/queue/", workspace.inquiry_queue, name="move"),
    path("<int:inquiry_id>/assignee/", workspace.inquiry_assign, name="assign"),
    path("<int:inquiry_id>/tags/", workspace.inquiry_tags, name="tags"),
    path("<int:inquiry_id>/merge/", workspace.inquiry_merge, name="merge"),
    path("<int:inquiry_id>/order/", workspace.inquiry_link_order, name="link_order"),
]
