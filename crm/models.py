"""The user account, shared choices, the audit log every app writes to, and the e-mail outbox."""

import secrets
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
    """Who did what to which record, when, and from which address (the request's client, none for
    background work). Written by services in the write's transaction.

    Append-only: on PostgreSQL a trigger refuses to change or delete an entry. Three changes are
    let through: deleting a user keeps her entries without the link to her; a seeder replaying
    history inside audit_backdating() may move an entry's time; erasing a customer inside
    audit_redacting() takes her personal data out of the entries' data. Nothing else."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)

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


class Scope(models.TextChoices):
    """What an integration token may do. Writes are further limited to the token's channels and
    stores."""

    CUSTOMERS_READ = "customers:read", "Read customers and their timelines"
    CUSTOMERS_WRITE = "customers:write", "Create and update customers"
    CUSTOMERS_MERGE = "customers:merge", "Merge customers (supervisor tokens)"
    ORDERS_READ = "orders:read", "Read orders, pickups and returns"
    ORDERS_WRITE = "orders:write", "Record orders, pickups and returns"
    INQUIRIES_READ = "inquiries:read", "Read inquiries"
    INQUIRIES_WRITE = "inquiries:write", "Open inquiries and add messages"
    MARKETING_READ = "marketing:read", "Read marketing touches and web activity"
    MARKETING_WRITE = "marketing:write", "Record marketing touches and web activity"


TOKEN_PREFIX_LENGTH = 12


class IntegrationToken(models.Model):
    """A credential of another system (web shop, point of sale, mail gateway). Only a hash of the
    secret is kept: the whole token is shown once, when it is made."""

    name = models.CharField(max_length=100, help_text="Which system uses it, e.g. 'Web shop'.")
    # The token's public part, to find it without scanning hashes: "crm_<prefix>_<secret>".
    prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="Scope values, e.g. ['orders:write'].")
    # Writes: only in these channels, and only for these stores (all_stores: any store).
    channels = models.JSONField(default=list, blank=True)
    stores = models.ManyToManyField("stores.Store", blank=True, related_name="+")
    all_stores = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} (crm_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The answer to a POST sent with an Idempotency-Key: a replay gets it again, byte for byte.
    The row is inserted before the work, in the request's transaction, so a concurrent duplicate
    waits on the unique index and then finds the answer."""

    # Who sent it: "token:<id>" or "user:<id>"; keys are only unique per sender.
    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The answer as rendered JSON text: JSON escapes every character, so a body quoting what the
    # client sent (a NUL in an unknown field's name) is kept as sent, which jsonb would refuse.
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_once")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age_idx")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class WebhookEvent(models.TextChoices):
    """What another system can be told about, as it happens."""

    INQUIRY_STATUS_CHANGED = "inquiry.status_changed", "Inquiry status changed"
    PICKUP_READY = "pickup.ready", "Pickup ready"
    RETURN_COMPLETED = "return.completed", "Return completed"
    CUSTOMER_MERGED = "customer.merged", "Customers merged"


WEBHOOK_URL_MAX_LENGTH = 500


def webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class WebhookEndpoint(models.Model):
    """A URL of another system that is sent the events it subscribed to, each signed with the
    endpoint's own secret (the receiver keeps a copy to check the signature)."""

    url = models.URLField(max_length=WEBHOOK_URL_MAX_LENGTH)
    description = models.CharField(max_length=200, blank=True, help_text="Which system it is.")
    events = models.JSONField(default=list, help_text="Event names, e.g. ['pickup.ready'].")
    secret = models.CharField(max_length=100, default=webhook_secret, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: an outbox row written in the event's transaction and sent by a
    task once that commits. As with the e-mail outbox, a send holds the row's lock, so a second
    task for the same delivery skips it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    # The event's id (one per event, shared by its deliveries to several endpoints): receivers
    # drop a copy they already processed by it.
    event_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # When the next try is due; the sweep enqueues again pending deliveries left well past it.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx"),
            models.Index(fields=["event_id"], name="webhook_event_idx"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class BacklogSnapshot(models.Model):
    """The open inquiries of every queue and store as they stood once a day, so that the backlog
    over time is read from a few rows instead of replaying every inquiry's history. One snapshot
    a day (in CRM_DEFAULT_TIME_ZONE), taken by a periodic task at the day's first run."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Backlog on {self.day}"


class BacklogCount(models.Model):
    """One queue's open inquiries from one store (or none: the call center's) in a snapshot."""

    snapshot = models.ForeignKey(BacklogSnapshot, on_delete=models.CASCADE, related_name="counts")
    # The snapshot's day again: a date range reads this table through one index, without a join.
    day = models.DateField()
    queue = models.ForeignKey(
        "tickets.Queue", null=True, on_delete=models.CASCADE, related_name="+"
    )
    store = models.ForeignKey("stores.Store", null=True, on_delete=models.CASCADE, related_name="+")
    open = models.PositiveIntegerField(help_text="New, open or waiting on the customer.")
    unanswered = models.PositiveIntegerField(help_text="Of those, not answered yet.")
    overdue = models.PositiveIntegerField(help_text="Of those, past a first-response target.")

    class Meta:
        ordering = ["day", "queue", "store"]
        indexes = [models.Index(fields=["day", "queue"], name="backlog_day_idx")]

    def __str__(self) -> str:
        return f"{self.open} open in queue {self.queue_id} on {self.day}"
