"""Integration tokens: made in the admin and shown once, stored hashed, scoped, revocable, with
their last use; the API's answers to a bad token in its one error shape."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from crm.api.throttling import TokenRateThrottle
from crm.models import AuditEntry, Channel, IntegrationToken, Role, Scope
from crm.services import token_create, token_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_with(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)


def make_token(admin, **kwargs) -> tuple[IntegrationToken, str]:
    values = {"name": "Web shop", "scopes": [Scope.MARKETING_READ], "channels": [Channel.WEB]}
    return token_create(actor=admin, **{**values, **kwargs})


def test_an_admin_makes_a_token_and_sees_it_once(admin):
    client = Client()
    client.force_login(admin)

    response = client.post(
        reverse("admin:crm_integrationtoken_add"),
        {"name": "Point of sale", "scopes": [Scope.ORDERS_WRITE], "channels": [Channel.STORE]},
        follow=True,
    )

    token = IntegrationToken.objects.get()
    shown = [str(m) for m in response.context["messages"] if "not shown again" in str(m)]
    assert len(shown) == 1
    raw = shown[0].split("Token for Point of sale: ")[1].split(" ")[0]
    assert raw.startswith(f"crm_{token.prefix}_")
    secret = raw.split("_", 2)[2]
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(IntegrationToken.objects.values().get())
    page = client.get(reverse("admin:crm_integrationtoken_change", args=[token.pk]))
    assert secret not in page.content.decode()
    assert AuditEntry.objects.filter(action="token.create", object_id=str(token.pk)).exists()


def test_a_secret_with_underscores_authenticates(admin):
    # token_urlsafe secrets hold "_" about every second time: none may be refused for it.
    for _ in range(12):
        _, raw = make_token(admin)
        assert client_with(raw).get(reverse("api:touch-list")).status_code == 200, raw


def test_a_wrong_unknown_or_revoked_token_is_401_in_the_error_shape(admin):
    token, raw = make_token(admin)
    prefix = raw.rsplit("_", 1)[0] if raw.count("_") == 2 else f"crm_{token.prefix}"
    wrong = f"crm_{token.prefix}_{'x' * 43}"
    for bad in (wrong, "crm_nosuchprefix_secret", "crm_", prefix):
        response = client_with(bad).get(reverse("api:touch-list"))
        assert response.status_code == 401, bad
        assert response["WWW-Authenticate"] == "Bearer"
        error = response.json()["error"]
        assert error["status"] == 401 and error["message"] and error["fields"] == {}

    token_revoke(token=token, actor=admin)
    assert client_with(raw).get(reverse("api:touch-list")).status_code == 401


def test_the_last_use_is_recorded(admin):
    token, raw = make_token(admin)
    assert token.last_used_at is None

    client_with(raw).get(reverse("api:touch-list"))

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_reaches_only_what_its_scopes_allow(admin):
    _, raw = make_token(admin, scopes=[Scope.ORDERS_READ])

    response = client_with(raw).get(reverse("api:touch-list"))

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This needs the marketing:read scope."


def test_people_use_the_api_by_role_and_customers_not_at_all():
    rep, customer = UserFactory(role=Role.REP), UserFactory(role=Role.CUSTOMER)
    for user, status in ((rep, 200), (customer, 403)):
        client = APIClient()
        client.force_login(user)
        assert client.get(reverse("api:touch-list")).status_code == status
    assert APIClient().get(reverse("api:touch-list")).status_code == 401


def test_bad_scopes_or_channels_make_no_token(admin):
    with pytest.raises(Exception, match="scope"):
        make_token(admin, scopes=["everything:write"])
    with pytest.raises(Exception, match="channels"):
        make_token(admin, channels=["fax"])
    assert not IntegrationToken.objects.exists()


def test_the_documentation_is_served_offline_without_inline_scripts():
    assert Client().get(reverse("api:schema")).status_code == 200
    docs = Client().get(reverse("api:docs")).content.decode()
    assert "cdn." not in docs and "unpkg" not in docs and "jsdelivr" not in docs
    assert "<script>" not in docs and "<style>" not in docs
    start = Client().get(reverse("api:docs"), {"script": ""})
    assert start["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in start.content.decode()
    assert Client().get(reverse("api:redoc"))["Location"] == reverse("api:docs")


def test_each_token_is_throttled_on_its_own(admin, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    _, busy = make_token(admin)
    _, other = make_token(admin)

    answers = [client_with(busy).get(reverse("api:touch-list")).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    throttled = client_with(busy).get(reverse("api:touch-list"))
    assert throttled.json()["error"]["status"] == 429 and "Retry-After" in throttled
    assert client_with(other).get(reverse("api:touch-list")).status_code == 200
