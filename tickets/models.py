"""Service inquiries: the teams that answer them, the rules that route them, their conversation,
their SLA timers, call-back requests, and the customer's rating."""

import datetime
import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel

# The reference a customer quotes ("R-10234") is the inquiry's id plus this offset.
REFERENCE_OFFSET = 10000
SUBJECT_MAX_LENGTH = 300
TRACKING_TOKEN_BYTES = 32  # 256 bits from `secrets`


def default_workdays() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday, as datetime.weekday() counts


def new_tracking_token() -> str:
    return secrets.token_urlsafe(TRACKING_TOKEN_BYTES)


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class Queue(models.Model):
    """A team that answers inquiries, with its members and its business hours."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    description = models.CharField(max_length=255, blank=True)
    # Inquiries no rule routes go to the default queue; exactly one queue should be it.
    is_default = models.BooleanField(default=False)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_queues",
        help_text="Told when an inquiry of this queue breaches its SLA.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="QueueMembership", related_name="queues"
    )
    # Business hours, in the team's time zone. Opening and closing at the same time means all day.
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    opens_at = models.TimeField(default=datetime.time(9, 0))
    closes_at = models.TimeField(default=datetime.time(17, 0))
    workdays = models.JSONField(
        default=default_workdays, help_text="Working days, 0 = Monday … 6 = Sunday."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_queue"
            )
        ]

    def __str__(self) -> str:
        return self.name


class QueueMembership(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships"
    )
    # Only available members get new inquiries assigned (away, on leave, off shift: not).
    is_available = models.BooleanField(default=True)
    # Round-robin gives the next inquiry to the available member who got one longest ago.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "user"], name="one_membership_per_queue")
        ]
        ordering = ["queue", "user"]

    def __str__(self) -> str:
        return f"{self.user} in {self.queue}"


class SlaPolicy(models.Model):
    """Targets for a queue's inquiries of one priority. Without a policy the defaults apply
    (CRM_SLA_FIRST_RESPONSE_MINUTES, CRM_SLA_RESOLUTION_MINUTES)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(default=6 * 60)
    resolution_minutes = models.PositiveIntegerField(default=3 * 24 * 60)
    # Count only the queue's business hours towards the targets.
    business_hours = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "priority"], name="one_policy_per_priority")
        ]
        ordering = ["queue", "-priority"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return f"{self.queue} · {self.get_priority_display()}"


class ValueTier(models.TextChoices):
    """Lifetime value bands (thresholds in CRM_VALUE_TIERS)."""

    NEW = "new", "No purchases yet"
    STANDARD = "standard", "Standard"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


class Assignment(models.TextChoices):
    NONE = "", "Leave unassigned"
    ROUND_ROBIN = "round_robin", "Round-robin among available members"
    FEWEST_OPEN = "fewest_open", "Available member with the fewest open inquiries"


class RoutingRule(models.Model):
    """One routing rule: conditions (all that are set must hold) and what to do on a match.
    Rules are tried by position; the first enabled rule that matches routes the inquiry."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    # Conditions: a blank one matches everything.
    channels = models.JSONField(default=list, blank=True, help_text="Any of these channels.")
    keywords = models.TextField(
        blank=True, help_text="One word or phrase a line; any of them in the subject or body."
    )
    has_open_pickup = models.BooleanField(null=True, blank=True)
    has_recent_return = models.BooleanField(null=True, blank=True)
    value_tiers = models.JSONField(default=list, blank=True)
    high_maintenance = models.BooleanField(null=True, blank=True)
    order_statuses = models.JSONField(
        default=list, blank=True, help_text="The linked order is in one of these states."
    )
    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Actions.
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="rules")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    assignment = models.CharField(
        max_length=20, choices=Assignment.choices, default=Assignment.NONE, blank=True
    )
    tags = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class InquiryStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = (InquiryStatus.NEW, InquiryStatus.OPEN, InquiryStatus.WAITING)
# A queue's backlog, for its expected answer time: routed person-sent inquiries waiting for their
# first response (waiting on the customer doesn't count).
BACKLOG = models.Q(
    status__in=(InquiryStatus.NEW, InquiryStatus.OPEN),
    first_responded_at__isnull=True,
    merged_into__isnull=True,
    automated_reason="",
)


class Inquiry(models.Model):
    """One customer question or problem, from any channel, followed until it is resolved."""

    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
        help_text="Empty only for automated mail from no person (bounces, mailer daemons).",
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    status = models.CharField(
        max_length=10, choices=InquiryStatus.choices, default=InquiryStatus.NEW
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    # Where replies go: the address the customer wrote from or gave on the form.
    requester_email = models.EmailField(max_length=254, blank=True)
    requester_name = models.CharField(max_length=200, blank=True)
    tracking_token = models.CharField(
        max_length=64, unique=True, default=new_tracking_token, editable=False
    )
    # Mail from a machine (auto-replies, bounces, lists): stored, never acknowledged.
    automated_reason = models.CharField(max_length=200, blank=True)

    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiries"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_inquiries",
    )
    tags = models.JSONField(default=list, blank=True)
    routed_at = models.DateTimeField(null=True, blank=True)
    routed_by_rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    routing_reason = models.CharField(max_length=500, blank=True)

    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="inquiries"
    )
    # An inquiry opened from a reply that could not join (a late reply, a stranger's) links back.
    related_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_inquiries"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    # SLA: due times are set when routed and moved while the SLA is paused (waiting on customer).
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The next SLA due time, kept by the database: the first response until there is one, then
    # the resolution. The agent queue is sorted by it through inquiry_open_due_idx.
    sla_due_at = models.GeneratedField(
        expression=models.Case(
            models.When(first_responded_at__isnull=True, then=models.F("first_response_due_at")),
            default=models.F("resolution_due_at"),
        ),
        output_field=models.DateTimeField(null=True, blank=True),
        db_persist=True,
    )

    acknowledgement = models.OneToOneField(
        "crm.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why no acknowledgement was sent (automated mail, our own address, too many this hour...).
    acknowledgement_skipped = models.CharField(max_length=200, blank=True)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "inquiries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["queue", "status", "first_response_due_at"], name="inquiry_queue_idx"
            ),
            models.Index(fields=["assignee", "status"], name="inquiry_assignee_idx"),
            models.Index(fields=["customer", "-created_at"], name="inquiry_customer_idx"),
            models.Index(fields=["requester_email", "-created_at"], name="inquiry_requester_idx"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(routed_at__isnull=True),
                name="inquiry_unrouted_idx",
            ),
            # The agent queue: open inquiries by SLA due time, counted per queue, assignee and
            # breach from the index alone.
            models.Index(
                fields=["sla_due_at", "created_at", "id"],
                include=["queue", "assignee", "status", "store"],
                condition=models.Q(status__in=OPEN_STATUSES, merged_into__isnull=True),
                name="inquiry_open_due_idx",
            ),
            # A queue's backlog and recent first responses, for the acknowledgement's expected
            # answer time.
            models.Index(
                fields=["queue", "routed_at"], condition=BACKLOG, name="inquiry_backlog_idx"
            ),
            models.Index(
                fields=["queue", "first_responded_at"],
                condition=models.Q(first_responded_at__isnull=False),
                name="inquiry_answered_idx",
            ),
            # The queues' recent satisfaction, read from the index alone.
            models.Index(
                fields=["rated_at"],
                include=["queue", "rating", "merged_into", "store"],
                condition=models.Q(rating__isnull=False),
                name="inquiry_rated_idx",
            ),
            # Reports: inquiries arrived, and resolved, within a date range.
            models.Index(fields=["created_at"], name="inquiry_created_idx"),
            models.Index(
                fields=["resolved_at"],
                condition=models.Q(resolved_at__isnull=False),
                name="inquiry_resolved_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:inquiry", args=[self.pk])

    def get_tracking_url(self) -> str:
        return reverse("support:track", args=[self.tracking_token])

    @property
    def reference(self) -> str:
        return f"R-{self.pk + REFERENCE_OFFSET}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageKind(models.TextChoices):
    INBOUND = "inbound", "From the customer"
    OUTBOUND = "outbound", "Reply to the customer"
    NOTE = "note", "Internal note"


class Message(models.Model):
    """One message of an inquiry's conversation. Internal notes never reach the customer."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH, blank=True)
    text = models.TextField(blank=True)
    # Sanitised (nh3) on the way in; shown only inside a sandboxed frame.
    html = models.TextField(blank=True)
    # Threading: the Message-ID without angle brackets; a redelivered message is stored once.
    message_id = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    automated_reason = models.CharField(max_length=200, blank=True)
    outbound_email = models.OneToOneField(
        "crm.OutboundEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"], condition=~models.Q(message_id=""), name="message_id_once"
            )
        ]
        indexes = [models.Index(fields=["inquiry", "created_at"], name="message_inquiry_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.inquiry_id}"

    @property
    def is_public(self) -> bool:
        return self.kind != MessageKind.NOTE


def attachment_path(attachment: "Attachment", filename: str) -> str:
    # A random folder: the stored name never comes from the sender.
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file that came with a message, served only as a download to permitted users."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=attachment_path, max_length=255)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    STATUS = "status", "Status"
    PRIORITY = "priority", "Priority"
    QUEUE = "queue", "Queue"
    ASSIGNEE = "assignee", "Assignee"
    TAGS = "tags", "Tags"
    ROUTED = "routed", "Routed"
    SLA_BREACH = "sla_breach", "SLA breached"
    ORDER_LINKED = "order_linked", "Order linked"
    MERGED = "merged", "Merged"
    RATED = "rated", "Rated"


# The due hour of every tally row whose hour has passed: all of them count as breaching alike.
DUE_LONG_AGO = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class OpenInquiryTally(models.Model):
    """Changes to the number of open inquiries, by queue, assignee, store, whether the SLA runs
    (new, open) or is paused (waiting), and the hour the SLA falls due. On PostgreSQL a trigger
    on the inquiry table writes -1 under an open inquiry's old key and +1 under its new one on
    every insert, update and delete, whatever the code path (migration 0007);
    open_inquiry_tally_compact folds the rows into one per key every minute. The agent queue's
    tabs sum these rows instead of counting every open inquiry."""

    queue_id = models.BigIntegerField(null=True)
    assignee_id = models.BigIntegerField(null=True)
    store_id = models.BigIntegerField(null=True)
    running = models.BooleanField()
    # The SLA due time to the hour (UTC); hours long past are folded into DUE_LONG_AGO.
    due_hour = models.DateTimeField(null=True)
    change = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.change:+d} queue {self.queue_id} assignee {self.assignee_id}"


class InquiryEvent(models.Model):
    """The inquiry's history: status changes (shown to the customer) and staff-side changes."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["inquiry", "created_at"], name="event_inquiry_idx")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.old_value} → {self.new_value}"


class CannedResponse(models.Model):
    """A prepared answer an agent inserts into a reply and adapts."""

    title = models.CharField(max_length=100)
    body = models.TextField()
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text="Empty: offered in every queue.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CallbackStatus(models.TextChoices):
    PENDING = "pending", "To call"
    REACHED = "reached", "Reached"
    RESOLVED = "resolved", "Resolved"
    CANCELLED = "cancelled", "Cancelled"


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", "Reached the customer"
    NO_ANSWER = "no_answer", "No answer: try again"
    RESOLVED = "resolved", "Reached and resolved"


class CallbackRequest(models.Model):
    """A request for a call at a phone number within a time window; part of an inquiry."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="callbacks")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="callback_requests"
    )
    phone = models.CharField(max_length=32, help_text="E.164")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    # When to call next: the window's start, moved on after a call that got no answer.
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_outcome = models.CharField(max_length=20, choices=CallbackOutcome.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="callback_due_idx"),
            # Reports: call-backs whose window fell within a date range.
            models.Index(fields=["window_start"], name="callback_window_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="callback_window_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"Call {self.phone} at {self.window_start:%Y-%m-%d %H:%M}"


class ArticleCategory(models.TextChoices):
    RETURNS = "returns", "Returns & refunds"
    DELIVERY = "delivery", "Orders & delivery"
    PICKUP = "pickup", "Store pickup"
    PRODUCTS = "products", "Sizes & products"
    PAYMENTS = "payments", "Payments & gift cards"
    WARRANTY = "warranty", "Warranty & repairs"
    ACCOUNT = "account", "Account & loyalty"
    STORES = "stores", "Our stores"


ARTICLE_TITLE_MAX_LENGTH = 200
ARTICLE_SLUG_MAX_LENGTH = 80


class Article(models.Model):
    """A knowledge-base answer: suggested to customers as they write, listed in acknowledgements,
    and inserted into replies. Only published articles are ever shown outside the staff pages."""

    title = models.CharField(max_length=ARTICLE_TITLE_MAX_LENGTH)
    # Set once from the title: links in e-mails already sent keep working after a rename.
    slug = models.SlugField(max_length=ARTICLE_SLUG_MAX_LENGTH, unique=True, editable=False)
    body = models.TextField(help_text="Markdown.")
    category = models.CharField(max_length=20, choices=ArticleCategory.choices)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Customers who said the article answered their question (one per visitor).
    deflection_count = models.PositiveIntegerField(default=0)
    # Title (weight A) and body (weight B), English stemming; written by the article services on
    # PostgreSQL (GIN-indexed there), left empty on SQLite where search falls back to words.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="article_updated_idx"),
            models.Index(
                fields=["category", "title"],
                condition=models.Q(is_published=True),
                name="article_published_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("support:article", args=[self.slug])


class DeflectionSource(models.TextChoices):
    INQUIRY_FORM = "inquiry_form", "While writing an inquiry"
    HELP_SEARCH = "help_search", "Searching the help articles"
    ARTICLE_PAGE = "article_page", "On the article page"


class ArticleDeflection(models.Model):
    """A customer said the article answered her question: counted once per visitor and article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    # A random key kept in the visitor's session (signed-in or not).
    visitor_key = models.CharField(max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="article_deflections",
    )
    source = models.CharField(max_length=20, choices=DeflectionSource.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "visitor_key"], name="one_deflection_per_visitor"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="deflection_created_idx")]

    def __str__(self) -> str:
        return f"{self.article} answered a question ({self.get_source_display()})"
