"""The outbound e-mail outbox against the real parts: PostgreSQL, Redis, a Celery worker process
and an SMTP server on loopback (aiosmtpd)."""

import email
import email.policy
import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.celery import app as celery_app
from crm.models import AuditEntry, OutboundEmail, OutboundEmailStatus
from crm.services import (
    EmailTemporaryFailure,
    email_deliver,
    email_enqueue,
    email_send,
    subject_line,
)
from crm.tasks import send_email, sweep_outbox
from tests.conftest import SmtpSink

# The gaps between retries start at 0.3 s in the worker: 0.3-0.45, 0.6-0.9, 1.2-1.8 s.
WORKER_BACKOFF = 0.3
WORKER_MAX_RETRIES = 3


@pytest.fixture
def worker_env(smtp_sink: SmtpSink) -> dict[str, str]:
    return {
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}",
        "CRM_EMAIL_RETRY_BACKOFF": str(WORKER_BACKOFF),
        "CRM_EMAIL_MAX_RETRIES": str(WORKER_MAX_RETRIES),
    }


def enqueue(key: str = "pickup-ready:1", **fields: object) -> OutboundEmail:
    values: dict[str, object] = {
        "to": "ann@example.com",
        "subject": "Your order is ready for pickup",
        "text": "Bring your pickup code: 4711.",
    }
    return email_enqueue(key=key, **{**values, **fields})


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("Timed out waiting for the worker.")
        time.sleep(0.1)


def status_of(outbound: OutboundEmail) -> str:
    outbound.refresh_from_db()
    return outbound.status


def queued_messages() -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery"))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_email_of_a_rolled_back_write_is_neither_stored_nor_queued(smtp_sink) -> None:
    celery_app.control.purge()

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("the pickup could not be marked ready")

    assert not OutboundEmail.objects.exists()
    assert queued_messages() == 0
    assert smtp_sink.attempts == []


@pytest.mark.worker
def test_a_real_worker_delivers_a_committed_email_once(smtp_sink, celery_worker_process) -> None:
    outbound = enqueue(html="<p>Bring your pickup code: <b>4711</b>.</p>")

    wait_for(lambda: status_of(outbound) == OutboundEmailStatus.SENT)

    assert len(smtp_sink.deliveries) == 1
    delivery = smtp_sink.deliveries[0]
    assert delivery.rcpt_tos == ["ann@example.com"]
    message = delivery.message
    assert message["Subject"] == "Your order is ready for pickup"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Message-ID"] == outbound.message_id
    assert message.get_body(("html",)).get_content().strip() == outbound.html_body
    assert (outbound.attempts, outbound.last_error) == (1, "")
    assert outbound.sent_at is not None


@pytest.mark.worker
def test_temporary_failures_are_retried_with_growing_gaps(smtp_sink, celery_worker_process) -> None:
    smtp_sink.answer_next("451 4.3.0 Try again later", times=3)

    outbound = enqueue()
    wait_for(lambda: status_of(outbound) == OutboundEmailStatus.SENT)

    assert len(smtp_sink.deliveries) == 1
    assert len(smtp_sink.attempts) == 4
    assert outbound.attempts == 4
    assert outbound.last_error == "451 4.3.0 Try again later"
    first, second, third = (
        b - a for a, b in zip(smtp_sink.attempts, smtp_sink.attempts[1:], strict=False)
    )
    assert WORKER_BACKOFF <= first < second < third


@pytest.mark.django_db
def test_the_same_key_twice_makes_one_email(
    mailer_to_sink, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = enqueue(key="pickup-ready:7")
        again = enqueue(key="pickup-ready:7", subject="Another subject")

    assert again.pk == first.pk
    assert len(callbacks) == 1
    assert OutboundEmail.objects.count() == 1
    assert len(mailer_to_sink.deliveries) == 1


@pytest.mark.django_db
def test_running_the_send_task_twice_sends_once(
    mailer_to_sink, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        outbound = enqueue()

    send_email(outbound.pk)
    send_email(outbound.pk)

    assert len(mailer_to_sink.deliveries) == 1
    assert status_of(outbound) == OutboundEmailStatus.SENT
    assert outbound.attempts == 1


@pytest.mark.django_db
def test_a_worker_sends_one_email_after_another_over_one_connection(
    mailer_to_sink, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        first, second, third = (enqueue(key=f"pickup-ready:{n}") for n in range(3))

    for outbound in (first, second):
        send_email(outbound.pk)
    assert len(mailer_to_sink.deliveries) == 2
    assert mailer_to_sink.greetings == 1

    # idle past the limit: the server may have dropped it, so a new one is opened
    monkeypatch.setattr("crm.services.CONNECTION_IDLE_LIMIT", 0.0)
    send_email(third.pk)
    assert len(mailer_to_sink.deliveries) == 3
    assert mailer_to_sink.greetings == 2


@pytest.mark.worker
@pytest.mark.django_db
def test_a_send_in_the_callers_task_that_fails_for_now_schedules_its_retry(
    mailer_to_sink, django_capture_on_commit_callbacks
) -> None:
    celery_app.control.purge()
    with django_capture_on_commit_callbacks(execute=False):
        outbound = enqueue()
    mailer_to_sink.answer_next("451 4.3.0 Try again later")

    with django_capture_on_commit_callbacks(execute=True):
        assert email_deliver(email_id=outbound.pk) is None

    assert status_of(outbound) == OutboundEmailStatus.PENDING
    assert outbound.attempts == 1
    assert outbound.next_attempt_at > timezone.now()
    queued = [
        json.loads(message)["headers"]
        for message in redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("celery", 0, -1)
    ]
    retries = [headers for headers in queued if headers["task"] == "crm.send_email"]
    assert len(retries) == 1
    assert retries[0]["eta"] is not None  # after the backoff, not at once
    celery_app.control.purge()


@pytest.mark.django_db
def test_a_connection_the_server_broke_is_opened_again_for_the_next_email(
    mailer_to_sink, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        first, second = (enqueue(key=f"pickup-ready:{n}") for n in range(2))
    send_email(first.pk)
    mailer_to_sink.answer_next("421 4.3.2 Service shutting down")
    with pytest.raises(Exception, match="421"):
        send_email(second.pk)

    send_email(second.pk)

    assert status_of(second) == OutboundEmailStatus.SENT
    assert len(mailer_to_sink.deliveries) == 2
    assert mailer_to_sink.greetings == 2


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["data", "recipient"])
def test_a_permanent_failure_is_final_and_visible(
    stage, mailer_to_sink, django_capture_on_commit_callbacks
) -> None:
    if stage == "data":
        mailer_to_sink.answer_next("550 5.7.1 Message rejected")
        to = "ann@example.com"
    else:
        to = "nobody@invalid.example"  # the sink refuses it below

        async def refuse(server, session, envelope, address, options) -> str:
            return "550 5.1.1 No such user"

        mailer_to_sink.handle_RCPT = refuse

    with django_capture_on_commit_callbacks(execute=True):
        outbound = enqueue(to=to)

    assert status_of(outbound) == OutboundEmailStatus.FAILED
    assert outbound.attempts == 1
    assert "550" in outbound.last_error
    assert mailer_to_sink.deliveries == []


@pytest.mark.worker
def test_after_the_last_retry_the_email_is_failed(smtp_sink, celery_worker_process) -> None:
    smtp_sink.answer_next("421 4.7.0 Too busy", times=10)

    outbound = enqueue()
    wait_for(lambda: status_of(outbound) == OutboundEmailStatus.FAILED)

    assert outbound.attempts == WORKER_MAX_RETRIES + 1
    assert outbound.last_error == "421 4.7.0 Too busy"
    time.sleep(WORKER_BACKOFF * 2**WORKER_MAX_RETRIES)
    assert len(smtp_sink.attempts) == WORKER_MAX_RETRIES + 1
    assert smtp_sink.deliveries == []


@pytest.mark.django_db
def test_an_unreachable_mail_server_is_a_temporary_failure(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},  # discard: nothing listens
        }
    }
    with django_capture_on_commit_callbacks(execute=False):
        outbound = enqueue()

    with pytest.raises(EmailTemporaryFailure) as failure:
        email_send(email_id=outbound.pk)

    assert failure.value.retry_in >= settings.CRM_EMAIL_RETRY_BACKOFF
    assert status_of(outbound) == OutboundEmailStatus.PENDING
    assert outbound.attempts == 1
    assert outbound.last_error.startswith("ConnectionRefusedError")
    assert outbound.next_attempt_at > timezone.now()


@pytest.mark.django_db
def test_the_sweep_sends_what_a_lost_task_left_behind(
    mailer_to_sink, django_capture_on_commit_callbacks
) -> None:
    # given: e-mails committed whose tasks never ran (the broker was down at commit)
    with django_capture_on_commit_callbacks(execute=False):
        lost = enqueue(key="lost", subject="Lost")
        just_queued = enqueue(key="queued", subject="Still queued")
        sent = enqueue(key="sent", subject="Sent")
        failed = enqueue(key="failed", subject="Failed")
    long_ago = timezone.now() - timedelta(minutes=5)
    OutboundEmail.objects.filter(key__in=["lost", "sent", "failed"]).update(
        next_attempt_at=long_ago
    )
    OutboundEmail.objects.filter(pk=sent.pk).update(status=OutboundEmailStatus.SENT)
    OutboundEmail.objects.filter(pk=failed.pk).update(status=OutboundEmailStatus.FAILED)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox() == 0

    # then
    assert [d.message["Subject"] for d in mailer_to_sink.deliveries] == ["Lost"]
    assert status_of(lost) == OutboundEmailStatus.SENT
    assert status_of(just_queued) == OutboundEmailStatus.PENDING
    assert status_of(sent) == OutboundEmailStatus.SENT
    assert status_of(failed) == OutboundEmailStatus.FAILED
    assert (sent.attempts, failed.attempts) == (0, 0)


class TestHeaderInjection:
    # What an e-mail parser makes of the inbound subject "x=?UTF-8?Q?=0ABcc:_evil@x?=".
    INBOUND_SUBJECT = str(
        email.message_from_string(
            "Subject: x=?UTF-8?Q?=0ABcc:_evil@x?=\n\nbody", policy=email.policy.default
        )["Subject"]
    )

    def test_the_inbound_subject_decodes_to_a_line_break(self) -> None:
        assert self.INBOUND_SUBJECT == "x\nBcc: evil@x"

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "fields",
        [
            {"subject": f"Re: {INBOUND_SUBJECT}"},
            {"to": "ann@example.com\nBcc: evil@x"},
            {"to": "ann@example.com, evil@x"},
            {"headers": {"In-Reply-To": "<a@x>\r\nBcc: evil@x"}},
            {"headers": {"Bcc": "evil@x"}},
        ],
    )
    def test_a_line_break_or_a_second_recipient_is_refused_and_nothing_stored(
        self, fields, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
            enqueue(**fields)

        assert not OutboundEmail.objects.exists()
        assert callbacks == []

    @pytest.mark.django_db
    def test_the_folded_subject_goes_to_one_recipient_without_bcc(
        self, mailer_to_sink, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            enqueue(subject=f"Re: {subject_line(self.INBOUND_SUBJECT)}")

        (delivery,) = mailer_to_sink.deliveries
        assert delivery.rcpt_tos == ["ann@example.com"]
        assert delivery.message["Bcc"] is None
        assert delivery.message["Subject"] == "Re: x Bcc: evil@x"


@pytest.mark.django_db
class TestAdmin:
    def test_staff_find_failed_email_with_its_error_and_send_it_again(
        self, admin_client, admin_user, mailer_to_sink, django_capture_on_commit_callbacks
    ) -> None:
        mailer_to_sink.answer_next("550 5.7.1 Message rejected")
        with django_capture_on_commit_callbacks(execute=True):
            failed = enqueue(key="failed", subject="Failed once")
            enqueue(key="fine", subject="Delivered")
        changelist = reverse("admin:crm_outboundemail_changelist")

        page = admin_client.get(changelist, {"status__exact": "failed"})
        assert page.status_code == 200
        assert list(page.context["cl"].result_list) == [failed]
        detail = admin_client.get(reverse("admin:crm_outboundemail_change", args=[failed.pk]))
        assert "550 5.7.1 Message rejected" in detail.content.decode()

        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                changelist,
                {"action": "send_again", "_selected_action": [failed.pk]},
            )

        assert status_of(failed) == OutboundEmailStatus.SENT
        assert [d.message["Subject"] for d in mailer_to_sink.deliveries] == [
            "Delivered",
            "Failed once",
        ]
        audit = AuditEntry.objects.get(action="email.resend")
        assert (audit.actor, audit.object_id) == (admin_user, str(failed.pk))

    def test_nobody_adds_changes_or_deletes_email_in_the_admin(self, admin_client) -> None:
        assert admin_client.get(reverse("admin:crm_outboundemail_add")).status_code == 403
