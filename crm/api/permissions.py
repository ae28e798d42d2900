"""Who may call an endpoint: a token with the endpoint's scope, or a signed-in employee whose
role implies it. Which channels and stores a write may name is checked with `check_write`."""

from collections.abc import Iterable
from typing import Any, cast

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from crm.models import IntegrationToken, Role, Scope, User
from crm.permissions import is_staff_member, stores_worked_at

READ_SCOPES = frozenset(
    {Scope.CUSTOMERS_READ, Scope.ORDERS_READ, Scope.INQUIRIES_READ, Scope.MARKETING_READ}
)
# What an employee's role lets her do through the API from her browser session.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.ASSOCIATE: READ_SCOPES
    | {Scope.CUSTOMERS_WRITE, Scope.ORDERS_WRITE, Scope.INQUIRIES_WRITE},
    Role.MANAGER: READ_SCOPES | {Scope.CUSTOMERS_WRITE, Scope.ORDERS_WRITE, Scope.INQUIRIES_WRITE},
    Role.REP: READ_SCOPES
    | {Scope.CUSTOMERS_WRITE, Scope.ORDERS_WRITE, Scope.INQUIRIES_WRITE, Scope.MARKETING_WRITE},
    Role.SUPERVISOR: frozenset(Scope.values),
    Role.ADMIN: frozenset(Scope.values),
}


def token_of(request: Request) -> IntegrationToken | None:
    return request.auth if isinstance(request.auth, IntegrationToken) else None


def has_scope(request: Request, scope: str) -> bool:
    token = token_of(request)
    if token is not None:
        return token.is_active and scope in token.scopes
    user = request.user
    if not is_staff_member(user):
        return False
    return scope in ROLE_SCOPES.get(cast(User, user).role, frozenset())


class ScopePermission(permissions.BasePermission):
    """The view names its scopes: `read_scope` for safe methods, `write_scope` for the others
    (or `scopes = {"post": ..., "get": ...}` by handler name, for views that mix them)."""

    message = "This token or account lacks the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = required_scope(request, view)
        if scope is None:
            return False
        if not has_scope(request, scope):
            self.message = f"This needs the {scope} scope."
            return False
        return True


def required_scope(request: Request, view: Any) -> str | None:
    by_action = getattr(view, "scopes", {})
    action = getattr(view, "action", None) or (request.method or "").lower()
    if action in by_action:
        return by_action[action]
    if request.method in permissions.SAFE_METHODS:
        return getattr(view, "read_scope", None)
    return getattr(view, "write_scope", None)


def check_write(request: Request, *, channel: str = "", stores: Iterable[Any] = ()) -> None:
    """Refuse a write outside what the caller may write: a token only in its channels and for
    its stores (a token of store 1 cannot record store 2's sales); store staff only for the
    stores they work at."""
    wanted = [store for store in stores if store is not None]
    token = token_of(request)
    if token is not None:
        if channel and channel not in token.channels:
            raise PermissionDenied(f"This token may not write in the {channel} channel.")
        if wanted and not token.all_stores:
            allowed = {store.pk for store in token.stores.all()}
            for store in wanted:
                if store.pk not in allowed:
                    raise PermissionDenied(f"This token may not write for store {store.code}.")
        return
    user = request.user
    if wanted and cast(User, user).role in (Role.ASSOCIATE, Role.MANAGER):
        allowed_ids = set(stores_worked_at(user).values_list("pk", flat=True))
        for store in wanted:
            if store.pk not in allowed_ids:
                raise PermissionDenied(f"You do not work at store {store.code}.")


def actor_of(request: Request) -> User | None:
    """The person behind a request, for services' `actor`; None for a system's token."""
    return None if token_of(request) is not None else cast(User, request.user)


def source_of(request: Request) -> str:
    """Who wrote it, for audit entries: "token:Web shop" or "user:rep@example.com"."""
    token = token_of(request)
    if token is not None:
        return f"token:{token.name}"
    return f"user:{cast(User, request.user).email}"
