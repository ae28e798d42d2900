"""Writes shared by every app: the audit log and the outbound e-mail outbox."""

import contextlib
import hashlib
import random
import secrets
import smtplib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from email.headerregistry import AddressHeader
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, mailers, make_msgid
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.handler import DEFAULT_MAILER_ALIAS
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg import pq

from crm.http import request_address, request_token
from crm.models import (
    OUTBOX_KEY_MAX_LENGTH,
    OUTBOX_SUBJECT_MAX_LENGTH,
    TOKEN_PREFIX_LENGTH,
    AuditEntry,
    Channel,
    IntegrationToken,
    OutboundEmail,
    OutboundEmailStatus,
    Scope,
    User,
)

if TYPE_CHECKING:
    from celery import Task

    from customers.models import Customer
    from stores.models import Store

# RFC 3834: automatic mail says so, so that auto-responders and ticket systems don't answer it.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
# The message's own fields set these; as extra headers they would add hidden recipients.
RESERVED_HEADERS = frozenset({"to", "cc", "bcc", "message-id"})
# A pending e-mail this long past its due time has lost its task: the sweep enqueues it again.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 500
ERROR_MAX_LENGTH = 2000
# A mail server may drop a connection idle for longer (RFC 5321 asks it to wait 5 minutes at least):
# a connection kept open between e-mails is used again only within this many seconds.
CONNECTION_IDLE_LIMIT = 30.0


def audit_entry(
    *, actor: User | None, action: str, obj: models.Model, data: dict[str, Any] | None = None
) -> AuditEntry:
    """An unsaved entry of who did what to which record, for a bulk_create of many changes in
    their transaction. A change made through the API names the integration token in its data."""
    token = request_token.get()
    return AuditEntry(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data={**(data or {}), "token": token} if token else data or {},
        ip=request_address.get(),
    )


@contextlib.contextmanager
def _audit_trigger_lets_through(setting: str) -> Iterator[None]:
    """Turn on one of the exceptions the audit log's append-only trigger knows (a PostgreSQL
    setting it reads), for the duration of the block."""
    if connection.vendor != "postgresql":
        yield
        return
    # Within a transaction the setting is the transaction's own: a rollback takes it back too.
    local = connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', %s)", [setting, local])
    try:
        yield
    finally:
        if connection.connection.info.transaction_status != pq.TransactionStatus.INERROR:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'off', %s)", [setting, local])


@contextlib.contextmanager
def audit_backdating() -> Iterator[None]:
    """For a seeder replaying history: inside, an audit entry may be moved to the time its change
    happened, and nothing else about it."""
    with _audit_trigger_lets_through("crm.audit_backdating"):
        yield


@contextlib.contextmanager
def audit_redacting() -> Iterator[None]:
    """For erasing a customer: inside, personal data may be taken out of audit entries' data, and
    nothing else about them changed."""
    with _audit_trigger_lets_through("crm.audit_redacting"):
        yield


def audit_record(
    *, actor: User | None, action: str, obj: models.Model, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Append who did what to which record. Call it inside the transaction of the change."""
    entry = audit_entry(actor=actor, action=action, obj=obj, data=data)
    entry.save()
    return entry


class EmailTemporaryFailure(Exception):
    """The mail server or the network failed in a way worth trying again in `retry_in` seconds."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


def subject_line(text: str) -> str:
    """Fold every run of white space, line breaks included, into one space. Use it on text from
    outside (an inbound subject) put in a subject: a decoded header may carry a newline."""
    return " ".join(text.split())


def _one_line(value: str) -> bool:
    # splitlines() knows every line boundary the e-mail package may fold on, not just CR and LF.
    return value.splitlines() in ([], [value])


def _address_error(address: str) -> str | None:
    if not _one_line(address):
        return f"{address!r} contains a line break."
    parsed = AddressHeader.value_parser(address)
    if parsed.all_defects or len(parsed.all_mailboxes) != 1:
        return f"{address!r} is not one e-mail address."
    try:
        validate_email(parsed.all_mailboxes[0].addr_spec)
    except ValidationError:
        return f"{address!r} is not a valid e-mail address."
    return None


def _clean_email(
    to: Sequence[str], subject: str, key: str, headers: Mapping[str, str]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not to:
        errors.setdefault("to", []).append("At least one recipient is needed.")
    for address in to:
        if message := _address_error(address):
            errors.setdefault("to", []).append(message)
    if not subject.strip() or not _one_line(subject) or len(subject) > OUTBOX_SUBJECT_MAX_LENGTH:
        errors.setdefault("subject", []).append(
            f"The subject must be one line of 1 to {OUTBOX_SUBJECT_MAX_LENGTH} characters."
        )
    if not key or len(key) > OUTBOX_KEY_MAX_LENGTH:
        errors.setdefault("key", []).append(
            f"The key must be 1 to {OUTBOX_KEY_MAX_LENGTH} characters."
        )
    for name, value in headers.items():
        if not name.isascii() or not name.isprintable() or ":" in name or " " in name:
            errors.setdefault("headers", []).append(f"{name!r} is not a header name.")
        elif name.lower() in RESERVED_HEADERS:
            errors.setdefault("headers", []).append(f"{name} is set by the outbox, not a header.")
        if not _one_line(value):
            errors.setdefault("headers", []).append(f"{name} contains a line break.")
    return errors


def enqueue_after_commit(task: "Task[..., Any]", *args: Any, countdown: float = 0) -> None:
    """Publish a task once the caller's transaction commits, never before (outside a transaction:
    at once), to run after `countdown` seconds. A broker that is down
    fails the publish at once and the error is logged, not raised: the write stands, and the
    periodic sweep of the work's own table (the outbox, unrouted inquiries) enqueues it again."""

    def publish() -> None:
        task.apply_async(args=args, countdown=countdown, retry=False)

    # In-process (eager) tasks run inside publish(): their errors are the caller's to see.
    transaction.on_commit(publish, robust=not current_app.conf.task_always_eager)


def _send_on_commit(email_id: int) -> None:
    from crm.tasks import send_email  # tasks call services: import late

    enqueue_after_commit(send_email, email_id)


def email_enqueue(
    *,
    to: str | Sequence[str],
    subject: str,
    text: str,
    key: str,
    html: str = "",
    customer: "Customer | None" = None,
    headers: Mapping[str, str] | None = None,
    automatic: bool = True,
    held: bool = False,
) -> OutboundEmail:
    """Put an e-mail in the outbox in the caller's transaction; it is sent once that commits, and
    not at all if it rolls back. One e-mail per key (its cause, e.g. "pickup-ready:123"): the same
    key again returns the first e-mail and sends nothing more. Automatic mail is marked as such
    (RFC 3834). A line break in a subject, address or header is refused (header injection).
    A held e-mail is recorded (its Message-ID too) but waits for email_release to be sent."""
    recipients = [to] if isinstance(to, str) else list(to)
    all_headers = {**(headers or {}), **(AUTOMATIC_HEADERS if automatic else {})}
    errors = _clean_email(recipients, subject, key, all_headers)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        email, created = OutboundEmail.objects.get_or_create(
            key=key,
            defaults={
                "to": recipients,
                "subject": subject,
                "text_body": text,
                "html_body": html,
                "headers": all_headers,
                "customer": customer,
                "message_id": make_msgid(domain=DNS_NAME.get_fqdn()),
                "status": OutboundEmailStatus.HELD if held else OutboundEmailStatus.PENDING,
            },
        )
        if created and not held:
            _send_on_commit(email.pk)
    return email


def email_release(*, email_id: int, text: str, html: str = "", enqueue: bool = True) -> bool:
    """Give a held e-mail its body and send it once the caller's transaction commits; True if it
    was held. An e-mail already released is left as it is (False), so a release repeated sends
    once. With enqueue=False the caller sends it itself (email_deliver) after the commit; should
    it fail to, the outbox sweep sends it."""
    released = OutboundEmail.objects.filter(pk=email_id, status=OutboundEmailStatus.HELD).update(
        text_body=text,
        html_body=html,
        status=OutboundEmailStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    if released and enqueue:
        _send_on_commit(email_id)
    return bool(released)


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text_body,
        to=email.to,
        # One Message-ID for every attempt, so a receiver can drop a copy sent twice.
        headers={**email.headers, "Message-ID": email.message_id},
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    return message


class _KeptConnection(threading.local):
    """The default mailer's connection of this thread, kept open between e-mails: a worker sends
    many, and each new connection costs a handshake. It is opened again when the mailer's settings
    change, after CONNECTION_IDLE_LIMIT of idleness, and after any error."""

    config: object = None
    backend: BaseEmailBackend | None = None
    used_at = 0.0

    def send(self, message: EmailMultiAlternatives) -> None:
        config = settings.MAILERS.get(DEFAULT_MAILER_ALIAS)
        stale = time.monotonic() - self.used_at > CONNECTION_IDLE_LIMIT
        if self.backend is not None and (config is not self.config or stale):
            self.close()
        try:
            if self.backend is None:
                self.backend, self.config = mailers[DEFAULT_MAILER_ALIAS], config
                self.backend.open()
            self.backend.send_messages([message])
        except BaseException:
            self.close()
            raise
        self.used_at = time.monotonic()

    def close(self) -> None:
        """Drop the connection; one that broke may fail to close, which changes nothing."""
        if self.backend is not None:
            backend, self.backend = self.backend, None
            with contextlib.suppress(OSError):  # smtplib's errors are OSErrors
                backend.close()


_connection = _KeptConnection()


def _is_temporary(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # Greylisting refuses recipients with 4xx: worth another try, a 5xx refusal is not.
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Refused or dropped connections and timeouts are OSErrors; a ValueError (an address Django
    # can't send to) will not change.
    return isinstance(error, OSError)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}"[:ERROR_MAX_LENGTH]
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]


def _retry_delay(attempts: int) -> float:
    """Seconds before the next try: doubling from CRM_EMAIL_RETRY_BACKOFF, plus up to half again
    at random so that e-mail failed together doesn't retry together; each gap still exceeds the
    one before."""
    base = settings.CRM_EMAIL_RETRY_BACKOFF * 2 ** (attempts - 1)
    return base * (1 + random.random() / 2)  # noqa: S311 (jitter, not a secret)


def email_send(*, email_id: int) -> OutboundEmail | None:
    """Send a pending outbox e-mail through the default mailer and mark it sent. Sent or failed
    e-mail, or one another worker is sending right now, is left alone, so a send repeated sends
    once. A temporary failure (SMTP 4xx, network) is recorded and raised as EmailTemporaryFailure
    with a growing wait; a permanent one (SMTP 5xx), or one after the last retry, marks it failed.
    """
    with transaction.atomic():
        # The lock is held during the SMTP exchange: it is what stops a second send of this e-mail.
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmailStatus.PENDING)
            .first()
        )
        if email is None:
            return None
        email.attempts += 1
        try:
            _connection.send(_message(email))
        except (OSError, ValueError) as error:
            email.last_error = _describe(error)
            if not _is_temporary(error) or email.attempts > settings.CRM_EMAIL_MAX_RETRIES:
                email.status = OutboundEmailStatus.FAILED
                email.save(update_fields=["attempts", "last_error", "status"])
                return email
            retry_in = _retry_delay(email.attempts)
            email.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
            email.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        else:
            email.status = OutboundEmailStatus.SENT
            email.sent_at = timezone.now()
            email.save(update_fields=["attempts", "status", "sent_at"])
            return email
    # Raised after the commit, so that the attempt and its error stay recorded.
    raise EmailTemporaryFailure(email.last_error, retry_in=retry_in)


def email_deliver(*, email_id: int) -> OutboundEmail | None:
    """Send a pending e-mail now, in the caller's process (email_send); after a temporary failure
    its retry is enqueued with the wait email_send chose."""
    from crm.tasks import send_email  # tasks call services: import late

    try:
        return email_send(email_id=email_id)
    except EmailTemporaryFailure as failure:
        enqueue_after_commit(send_email, email_id, countdown=failure.retry_in)
        return None


def outbox_sweep() -> int:
    """Enqueue again pending e-mail more than a minute past its due time: its task was lost (the
    broker was down at commit, a worker died). Each one swept is due again from now, so a slow
    queue doesn't get it enqueued by every sweep. Returns how many were enqueued."""
    now = timezone.now()
    with transaction.atomic():
        # skip_locked: an e-mail being sent right now is not lost.
        overdue = list(
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(status=OutboundEmailStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        OutboundEmail.objects.filter(pk__in=overdue).update(next_attempt_at=now)
        for email_id in overdue:
            _send_on_commit(email_id)
    return len(overdue)


def email_resend(*, email: OutboundEmail, actor: User) -> OutboundEmail:
    """Send a failed e-mail again with a fresh set of retries, e.g. once the mail server problem
    is fixed. Only failed e-mail can be sent again; the resend is in the audit log."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email.pk)
        if email.status != OutboundEmailStatus.FAILED:
            raise ValidationError("Only a failed e-mail can be sent again.")
        email.status = OutboundEmailStatus.PENDING
        email.attempts = 0
        email.next_attempt_at = timezone.now()
        email.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_record(
            actor=actor, action="email.resend", obj=email, data={"last_error": email.last_error}
        )
        _send_on_commit(email.pk)
    return email


def token_create(
    *,
    name: str,
    scopes: Sequence[str],
    actor: User,
    channels: Sequence[str] = (),
    stores: Sequence["Store"] = (),
    all_stores: bool = False,
) -> tuple[IntegrationToken, str]:
    """Make an integration token and return it with its whole secret, which is shown this once:
    only its hash is kept. Scopes and channels must be known ones."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(scopes) - set(Scope.values))
    if not scopes or unknown:
        errors["scopes"] = [f"Choose at least one known scope (unknown: {', '.join(unknown)})."]
    unknown_channels = sorted(set(channels) - set(Channel.values))
    if unknown_channels:
        errors["channels"] = [f"Unknown channels: {', '.join(unknown_channels)}."]
    if not name.strip():
        errors["name"] = ["Name the system that will use the token."]
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(TOKEN_PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = IntegrationToken.objects.create(
            name=name.strip(),
            prefix=prefix,
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            scopes=sorted(set(scopes)),
            channels=sorted(set(channels)),
            all_stores=all_stores,
            created_by=actor,
        )
        token.stores.set(stores)
        audit_record(
            actor=actor,
            action="token.create",
            obj=token,
            data={"scopes": token.scopes, "channels": token.channels},
        )
    return token, f"crm_{prefix}_{secret}"


def token_revoke(*, token: IntegrationToken, actor: User) -> IntegrationToken:
    """Revoke a token: every request with it is refused from now on."""
    with transaction.atomic():
        token = IntegrationToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="token.revoke", obj=token)
    return token
