"""Who may do what. Every view and service asks these helpers, never the role field directly."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from crm.models import Role, User
from stores.models import Store, StoreKind, StoreRole

STAFF_ROLES = frozenset({Role.ASSOCIATE, Role.MANAGER, Role.REP, Role.SUPERVISOR, Role.ADMIN})
STORE_ROLES = frozenset({Role.ASSOCIATE, Role.MANAGER})
MERGE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
# The call center's work on inquiries: reply, change, assign, merge, in every queue.
INQUIRY_WORKER_ROLES = frozenset({Role.REP, Role.SUPERVISOR, Role.ADMIN})
REPORT_ROLES = frozenset({Role.MANAGER, Role.SUPERVISOR, Role.ADMIN})

AnyUser = User | AnonymousUser


class HtmxHttpRequest(HttpRequest):
    """The request as django-htmx's middleware leaves it, for typing views that read .htmx."""

    htmx: HtmxDetails


def is_staff_member(user: AnyUser) -> bool:
    """Employees of the retailer, in stores or in the call center. Customers are not."""
    return user.is_authenticated and user.is_active and cast(User, user).role in STAFF_ROLES


def is_store_staff(user: AnyUser) -> bool:
    return user.is_authenticated and cast(User, user).role in STORE_ROLES


def can_view_customers(user: AnyUser) -> bool:
    """Every employee may look any customer up: returns and pickups cross stores and channels."""
    return is_staff_member(user)


def can_view_stock(user: AnyUser) -> bool:
    """Every employee may see every location's stock: a rep sends a caller to the store that has
    the item, a store sends a customer to the next one."""
    return is_staff_member(user)


def can_comment(user: AnyUser) -> bool:
    return is_staff_member(user)


def can_merge_customers(user: AnyUser) -> bool:
    return is_staff_member(user) and cast(User, user).role in MERGE_ROLES


def can_erase_customers(user: AnyUser) -> bool:
    """Erasing a customer's personal data cannot be undone: administrators only."""
    return is_staff_member(user) and cast(User, user).role == Role.ADMIN


def can_work_inquiries(user: AnyUser) -> bool:
    """Reply, change, assign, merge: the call center's work on every inquiry. Store staff see
    (and note on) the inquiries reported at their stores only."""
    return is_staff_member(user) and cast(User, user).role in INQUIRY_WORKER_ROLES


def can_manage_routing(user: AnyUser) -> bool:
    """Supervisors and admins decide where inquiries go; reps and store staff work them."""
    return is_staff_member(user) and cast(User, user).role in MERGE_ROLES


def stores_worked_at(user: AnyUser) -> QuerySet[Store]:
    """The locations whose console a user may work: store staff (and warehouse staff, by their
    membership) their own, supervisors and admins every one. A warehouse's console receives
    posted returns; it has no pickup counter and takes no orders."""
    stores = Store.objects.filter(is_active=True)
    if not is_staff_member(user):
        return stores.none()
    role = cast(User, user).role
    if role in STORE_ROLES:
        return stores.filter(memberships__user=cast(User, user))
    if role in MERGE_ROLES:
        return stores
    return stores.none()


def can_view_reports(user: AnyUser) -> bool:
    """Supervisors and admins read the reports of every store, store managers those of their own;
    associates, reps and customers none."""
    return is_staff_member(user) and cast(User, user).role in REPORT_ROLES


def stores_reported_on(user: AnyUser) -> QuerySet[Store]:
    """The stores whose figures a user may read in the reports: every store (warehouses and
    closed stores too: their history counts) for supervisors and admins, the stores she manages
    for a store manager, none for anyone else."""
    if not can_view_reports(user):
        return Store.objects.none()
    if cast(User, user).role in MERGE_ROLES:
        return Store.objects.all()
    return Store.objects.filter(
        memberships__user=cast(User, user), memberships__role=StoreRole.MANAGER
    )


def reports_cover_all_stores(user: AnyUser) -> bool:
    """Whether the reports show every store, the call center's inquiries included, by default."""
    return can_view_reports(user) and cast(User, user).role in MERGE_ROLES


def can_override_return_window(user: AnyUser, store: Store) -> bool:
    """A return past the store's window needs the store's manager, or a supervisor or admin."""
    if not is_staff_member(user):
        return False
    role = cast(User, user).role
    if role in MERGE_ROLES:
        return True
    return role == Role.MANAGER and store.memberships.filter(user=cast(User, user)).exists()


ViewFunc = Callable[..., HttpResponse]


def require(check: Callable[[AnyUser], bool]) -> Callable[[ViewFunc], ViewFunc]:
    """View decorator: anonymous users go to the login page, signed-in users who fail get 403."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = require(is_staff_member)


def store_counter(view: ViewFunc) -> ViewFunc:
    """store_console for the pages only a store has (pickup counter, in-store orders): at a
    warehouse they are 404."""

    def counter_only(request: HttpRequest, store: Store, *args: Any, **kwargs: Any) -> HttpResponse:
        if store.kind != StoreKind.STORE:
            raise Http404("A warehouse has no counter.")
        return view(request, store, *args, **kwargs)

    return store_console(wraps(view)(counter_only))


def store_console(view: ViewFunc) -> ViewFunc:
    """View decorator for a store's console pages (/stores/<code>/...): the view gets the Store
    instead of its code. A store the user does not work at is 404, as if it did not exist."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_member(request.user):
            raise PermissionDenied
        store = stores_worked_at(request.user).filter(code=code).first()
        if store is None:
            raise Http404("No such store.")
        return view(request, store, *args, **kwargs)

    return wrapped
