"""Shared fixtures for the REST API tests: integration tokens and API clients.

    def test_something(token_factory, api_client):
        token, raw = token_factory(scopes=[Scope.CUSTOMERS_READ], channels=[Channel.WEB_FORM])
        response = api_client(raw).get("/api/v1/customers/")

`api_client()` without a secret is an anonymous client; `api_client(user=rep)` is a client
signed in with a session as that employee (force_login)."""

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from rest_framework.test import APIClient

from crm.models import Channel, IntegrationToken, Role, Scope, User
from crm.services import token_create
from tests.factories import UserFactory

TokenFactory = Callable[..., tuple[IntegrationToken, str]]
ClientFactory = Callable[..., APIClient]


def client_for(raw: str | None = None, *, user: User | None = None) -> APIClient:
    """An APIClient that sends `Authorization: Bearer <raw>` (or a session for `user`)."""
    client = APIClient()
    if raw is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def token_admin(db: None) -> User:
    """The employee who creates the tests' tokens (the token's created_by)."""
    user: User = UserFactory.create(role=Role.ADMIN, email="token-admin@example.com")
    return user


@pytest.fixture
def token_factory(token_admin: User) -> TokenFactory:
    """make(scopes=..., channels=..., stores=..., all_stores=..., name=...) -> (token, raw).
    By default: every scope, every channel, all stores."""

    def make(
        *,
        scopes: Sequence[str] = tuple(Scope.values),
        channels: Sequence[str] = tuple(Channel.values),
        stores: Sequence[Any] = (),
        all_stores: bool | None = None,
        name: str = "Test system",
        actor: User | None = None,
    ) -> tuple[IntegrationToken, str]:
        return token_create(
            name=name,
            scopes=list(scopes),
            actor=actor or token_admin,
            channels=list(channels),
            stores=list(stores),
            all_stores=(not stores) if all_stores is None else all_stores,
        )

    return make


@pytest.fixture
def api_client(db: None) -> ClientFactory:
    """api_client(raw) -> an APIClient with the token's Bearer header; api_client(user=u) a
    session client; api_client() anonymous."""
    return client_for
