"""Routing rules pages, under /inquiries/rules/ (supervisors and admins)."""

from django.urls import path

from tickets.views import rules

urlpatterns = [
    path("", rules.rule_list, name="rules"),
    path("new/", rules.rule_create, name="rule_create"),
    path("<int:rule_id>/", rules.rule_edit, name="rule_edit"),
    path("<int:rule_id>/move/", rules.rule_move, name="rule_move"),
    path("<int:rule_id>/toggle/", rules.rule_toggle, name="rule_toggle"),
    path("<int:rule_id>/delete/", rules.rule_delete, name="rule_delete"),
]
