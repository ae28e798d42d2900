import re
import time
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.models import Channel, Role
from crm.settings import shared_cache
from customers.models import Activity, ActivityKind
from customers.services import Identity, customer_resolve
from tests.conftest import RedisServer
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_password_reset_by_email_lets_the_user_sign_in_with_the_new_password(client) -> None:
    UserFactory(email="rep@example.com", role=Role.REP)

    client.post(reverse("account_reset_password"), {"email": "rep@example.com"})

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form = client.get(link.group(1), follow=True)
    new_password = "a-brand-new-passphrase-42"
    client.post(form.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    fresh = Client()
    response = fresh.post(
        reverse("account_login"), {"login": "rep@example.com", "password": new_password}
    )
    assert response.status_code == 302


def test_logout_ends_the_session(client) -> None:
    client.force_login(UserFactory(role=Role.REP))

    client.post(reverse("account_logout"))

    assert client.get(reverse("customers:search")).status_code == 302


def test_a_remembered_session_lasts_a_working_day(client) -> None:
    UserFactory(email="rep@example.com", role=Role.REP)

    client.post(
        reverse("account_login"),
        {"login": "rep@example.com", "password": PASSWORD, "remember": "on"},
    )

    assert int(client.cookies["sessionid"]["max-age"]) == 12 * 60 * 60


def test_a_session_ends_when_its_time_is_up(client, settings) -> None:
    settings.SESSION_COOKIE_AGE = 2
    UserFactory(email="rep@example.com", role=Role.REP)
    client.post(reverse("account_login"), {"login": "rep@example.com", "password": PASSWORD})
    assert client.get(reverse("customers:search")).status_code == 200

    time.sleep(2.5)
    response = client.get(reverse("customers:search"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_wrong_password_is_refused_with_a_message(client) -> None:
    UserFactory(email="rep@example.com", role=Role.REP)

    response = client.post(
        reverse("account_login"), {"login": "rep@example.com", "password": "nope"}
    )

    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_sign_up_is_closed_by_default(client) -> None:
    response = client.get(reverse("account_signup"))

    assert "Sign Up Closed" in response.content.decode()


def test_times_show_in_the_users_own_time_zone(client) -> None:
    customer = customer_resolve(
        identity=Identity(email="ana@example.com"), source=Channel.WEB
    ).customer
    Activity.objects.create(
        customer=customer,
        kind=ActivityKind.COMMENT_ADDED,
        channel=Channel.PHONE,
        summary="Called about a delivery",
        occurred_at=datetime(2026, 7, 1, 16, 30, tzinfo=UTC),
    )
    client.force_login(UserFactory(role=Role.REP, time_zone="America/Los_Angeles"))

    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert "Jul 1, 2026, 9:30 AM" in page


def test_the_sixth_failed_login_in_five_minutes_is_refused_even_with_the_right_password(
    client,
) -> None:
    UserFactory(email="rep@example.com", role=Role.REP)
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "rep@example.com", "password": "wrong"})

    response = client.post(
        reverse("account_login"), {"login": "rep@example.com", "password": PASSWORD}
    )

    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_the_admin_signs_in_only_through_the_rate_limited_sign_in_page(client) -> None:
    UserFactory(email="admin@example.com", role=Role.ADMIN, is_staff=True, is_superuser=True)
    login = reverse("admin:login")

    page = client.get(login, {"next": "/admin/"})
    posted = client.post(login, {"username": "admin@example.com", "password": PASSWORD})

    assert page.status_code == 302
    assert page["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"
    assert posted.status_code == 302 and posted["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "admin@example.com", "password": "x"})
    client.post(reverse("account_login"), {"login": "admin@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_staff_without_admin_rights_are_refused_at_the_admin_sign_in(client) -> None:
    client.force_login(UserFactory(role=Role.REP))

    assert client.get(reverse("admin:login")).status_code == 403


def test_a_signed_in_rep_keeps_working_while_the_shared_cache_is_down(
    own_redis: RedisServer, client, settings
) -> None:
    settings.CACHES = {"default": shared_cache(own_redis.url_of(1))}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    UserFactory(email="rep@example.com", role=Role.REP)
    client.post(reverse("account_login"), {"login": "rep@example.com", "password": PASSWORD})
    assert client.get(reverse("customers:search")).status_code == 200

    own_redis.stop()
    page = client.get(reverse("customers:search"))
    other = Client().post(
        reverse("account_login"), {"login": "rep@example.com", "password": PASSWORD}
    )

    # The session is read from the database. Signing in, whose attempts can't be counted while
    # the cache is away, is refused rather than left unthrottled.
    assert page.status_code == 200 and page.context["user"].email == "rep@example.com"
    assert other.status_code == 429
