from typing import Any, cast

from django.http import HttpRequest
from django.template.backends.utils import csrf_input
from django.utils.functional import SimpleLazyObject

from crm.models import User
from crm.permissions import (
    can_merge_customers,
    can_view_reports,
    is_staff_member,
    is_store_staff,
)
from stores.models import Store
from stores.selectors import pickups_waiting_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the layout needs to draw a navigation fitting the user's role."""
    user = request.user
    if not is_staff_member(user):
        return {"is_staff_member": False}
    staff = cast(User, user)
    return {
        "is_staff_member": True,
        "nav_can_merge": can_merge_customers(staff),
        "nav_stores": Store.objects.filter(memberships__user=staff)
        if is_store_staff(staff)
        else [],
        "nav_role": staff.get_role_display(),
        # Lazy: counted only when the layout draws the badge, in one query.
        "nav_pickups_waiting": lambda: pickups_waiting_count(user=staff),
        "nav_can_view_reports": can_view_reports(staff),
        "nav_can_work_stores": is_store_staff(staff) or can_merge_customers(staff),
        "nav_search_query": request.GET.get("q", "")
        if request.resolver_match and request.resolver_match.view_name == "customers:search"
        else "",
    }


def csrf_form_field(request: HttpRequest) -> dict[str, Any]:
    """`{{ csrf_input }}`: the CSRF form field, rendered once for the page however many of its
    rows carry a form (`{% csrf_token %}` renders it again for each), and only if it is used."""
    return {"csrf_input": SimpleLazyObject(lambda: csrf_input(request))}
