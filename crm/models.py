"""The user account, shared choices, the audit log every app writes to, and the e-mail outbox."""

import zoneinfo
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    """Where something happened: the channels a customer reaches the retailer through."""

    WEB = "web", "Web shop"
    STORE = "store", "Store"
    PHONE = "phone", "Phone"
    KIOSK = "kiosk", "In-store kiosk"
    EMAIL = "email", "E-mail"
    WEB_FORM = "web_form", "Web form"
    PORTAL = "portal", "Customer portal"
    CALLBACK = "callback", "Call-back request"
    SYSTEM = "system", "System"


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ASSOCIATE = "associate", "Store associate"
    MANAGER = "manager", "Store manager"
    REP = "rep", "Call-center rep"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Administrator"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.ADMIN)
        return self.create_user(email, password, **extra)


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractUser):
    """A person who signs in: staff of any role, or a customer using the portal."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    time_zone = models.CharField(
        max_length=64, choices=time_zone_choices, default=settings.TIME_ZONE
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class AuditEntry(models.Model):
    """Who did what to which record, and when. Written by services in the write's transaction."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"


OUTBOX_KEY_MAX_LENGTH = 200
OUTBOX_SUBJECT_MAX_LENGTH = 300


class OutboundEmailStatus(models.TextChoices):
    # Written with its cause but finished later (an acknowledgement waits for its routing).
    HELD = "held", "Held"
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboundEmail(models.Model):
    """One e-mail in the outbox, written in the transaction of its cause and sent by a task.

    There is no "sending" status: a send holds the row's lock for its duration, so a second task
    for the same row skips it instead of sending it again.
    """

    # Names the cause ("pickup-ready:123"), so a cause enqueued twice makes one e-mail.
    key = models.CharField(max_length=OUTBOX_KEY_MAX_LENGTH, unique=True)
    to = models.JSONField(help_text="Recipient addresses.")
    subject = models.CharField(max_length=OUTBOX_SUBJECT_MAX_LENGTH)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Fixed at enqueue: every attempt carries it, and replies can be threaded by it.
    message_id = models.CharField(max_length=255, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_emails",
    )
    status = models.CharField(
        max_length=10, choices=OutboundEmailStatus.choices, default=OutboundEmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # When the next send is due; the sweep re-sends pending e-mail left well past it.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
        ]
        verbose_name = "outbound e-mail"
        verbose_name_plural = "outbound e-mails"

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
