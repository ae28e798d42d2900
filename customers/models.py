"""The unified customer record: one Customer, its contact points, timeline and comments."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, Role
from customers.identifiers import name_keys

COMMENT_MAX_LENGTH = 2000


class Customer(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Lower-cased, accent-free "first last" and "last first" (customers.identifiers.name_keys):
    # what name search matches, from the start of either (ordered indexes on PostgreSQL) or
    # word by word anywhere in the first (trigram index).
    search_name = models.CharField(max_length=201, blank=True, editable=False, db_index=True)
    search_name_reversed = models.CharField(max_length=201, blank=True, editable=False)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    home_store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_since = models.DateTimeField(default=timezone.now)
    # Set by staff; inquiry routing rules can send her inquiries to a dedicated team.
    high_maintenance = models.BooleanField(default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
    )
    # A merged customer stays as an alias of the survivor, so old links and ids keep working.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="aliases"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    # When her personal data was erased (customers.erasure): what is left is kept for the books.
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    def set_search_names(self) -> None:
        self.search_name, self.search_name_reversed = name_keys(self.first_name, self.last_name)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or f"Customer #{self.pk}"


class ContactKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    LOYALTY = "loyalty", "Loyalty card"
    EXTERNAL = "external", "External id"


class ContactPoint(models.Model):
    """One identifier of a customer, normalised so that each (kind, value) belongs to one customer.

    External ids are stored as "<system>:<id>", e.g. "webshop:88123".
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    value = models.CharField(max_length=254)
    source = models.CharField(max_length=20, choices=Channel.choices, default=Channel.SYSTEM)
    verified = models.BooleanField(default=False)
    # Our mail to this address bounced: no more automatic mail goes to it.
    undeliverable_at = models.DateTimeField(null=True, blank=True)
    undeliverable_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="contact_point_unique_value")
        ]
        ordering = ["kind", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class ActivityKind(models.TextChoices):
    ORDER_PLACED = "order_placed", "Order placed"
    ORDER_STATUS = "order_status", "Order paid, shipped, delivered or cancelled"
    PICKUP_READY = "pickup_ready", "Pickup ready"
    PICKUP_COLLECTED = "pickup_collected", "Pickup collected"
    PICKUP_EXPIRED = "pickup_expired", "Pickup expired"
    PICKUP_CANCELLED = "pickup_cancelled", "Pickup cancelled"
    RETURN_REQUESTED = "return_requested", "Return started online"
    RETURN_RECEIVED = "return_received", "Items returned"
    COMMENT_ADDED = "comment_added", "Comment"
    CONTACT_ADDED = "contact_added", "Contact details added"
    CUSTOMERS_MERGED = "customers_merged", "Records merged"
    INQUIRY_OPENED = "inquiry_opened", "Inquiry opened"
    INQUIRY_MESSAGE = "inquiry_message", "Customer wrote"
    INQUIRY_REPLIED = "inquiry_replied", "Reply sent"
    INQUIRY_STATUS = "inquiry_status", "Inquiry status"
    INQUIRY_RATED = "inquiry_rated", "Answer rated"
    CALL_LOGGED = "call_logged", "Phone call"
    CALLBACK_REQUESTED = "callback_requested", "Call-back requested"
    CALLBACK_LOGGED = "callback_logged", "Call-back made"
    OFFER_SENT = "offer_sent", "Offer sent"
    OFFER_OPENED = "offer_opened", "Offer opened"
    OFFER_CLICKED = "offer_clicked", "Offer clicked"
    OFFER_REDEEMED = "offer_redeemed", "Offer redeemed"
    VISIT = "visit", "Web shop visit"
    WISHLIST_CHANGED = "wishlist_changed", "Wish list changed"
    CART_ABANDONED = "cart_abandoned", "Cart abandoned"
    CART_RECOVERED = "cart_recovered", "Cart recovered"


class Activity(models.Model):
    """One event on a customer's timeline, written in the same transaction as the event."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    occurred_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32, choices=ActivityKind.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=255)
    detail = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    # What the entry is about, for its link: e.g. ("order", "W100231").
    subject_type = models.CharField(max_length=32, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                "customer",
                models.F("occurred_at").desc(),
                models.F("id").desc(),
                name="activity_timeline_idx",
            )
        ]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.summary


class Comment(models.Model):
    """A note by staff on a customer's history, plain text."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_role = models.CharField(max_length=20, choices=Role.choices)
    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.body[:50]


class MergeSuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Dismissed"


class MergeSuggestion(models.Model):
    """Two records that may be one person; a supervisor decides. customer_a has the lower id."""

    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=255)
    status = models.CharField(
        max_length=10, choices=MergeSuggestionStatus.choices, default=MergeSuggestionStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="one_suggestion_per_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=models.F("customer_b")),
                name="suggestion_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="suggestion_status_idx")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_a_id} ~ {self.customer_b_id}: {self.reason}"


# Marketing touches and web activity: what other systems tell us the customer saw and did.

SOURCE_MAX_LENGTH = 32
EXTERNAL_ID_MAX_LENGTH = 64


class OfferType(models.TextChoices):
    PERCENT_OFF = "percent_off", "Percent off"
    AMOUNT_OFF = "amount_off", "Amount off"
    FREE_SHIPPING = "free_shipping", "Free shipping"
    GIFT = "gift", "Gift"
    BUNDLE = "bundle", "Bundle"
    OTHER = "other", "Other"


class TouchChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    WEB = "web", "Web shop"
    STORE = "store", "Store"
    MAIL = "mail", "Post"


class Touch(models.Model):
    """A marketing offer or promotion sent to a customer, and what became of it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="touches")
    # The system that sent it ("mailer") and its id there: a re-sent touch is stored once.
    source = models.CharField(max_length=SOURCE_MAX_LENGTH)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    campaign = models.CharField(max_length=100, blank=True)
    promotion_code = models.CharField(max_length=64, blank=True)
    offer_type = models.CharField(max_length=16, choices=OfferType.choices)
    # Percent for percent_off, an amount for amount_off; empty for the other types.
    offer_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=10, choices=TouchChannel.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="touch_external_id_unique_per_source"
            )
        ]
        indexes = [
            models.Index(
                "customer",
                models.F("sent_at").desc(),
                models.F("id").desc(),
                name="touch_customer_idx",
            )
        ]
        verbose_name_plural = "touches"

    def __str__(self) -> str:
        return f"{self.get_offer_type_display()} {self.campaign or self.external_id}"


class VisitSource(models.TextChoices):
    PROMOTION = "promotion", "Promotion"
    BOOKMARK = "bookmark", "Bookmark"
    TYPED = "typed", "Typed address"
    AFFILIATE = "affiliate", "Affiliate"
    SEARCH = "search", "Search"
    SOCIAL = "social", "Social media"
    EMAIL = "email", "E-mail"
    OTHER = "other", "Other"


class Visit(models.Model):
    """One visit of the web shop by a known customer, and what brought her there."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visits")
    occurred_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=VisitSource.choices)
    referrer = models.CharField(max_length=500, blank=True)
    campaign = models.CharField(max_length=100, blank=True)
    landing_page = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                "customer",
                models.F("occurred_at").desc(),
                models.F("id").desc(),
                name="visit_customer_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.occurred_at:%Y-%m-%d}"


class WishListItem(models.Model):
    """A product on a customer's wish list; the current list is the rows not removed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="wish_list_items")
    product = models.ForeignKey("orders.Product", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        indexes = [
            models.Index(
                "customer",
                models.F("added_at").desc(),
                models.F("id").desc(),
                name="wishlist_customer_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} for {self.customer_id}"


class CheckoutStep(models.TextChoices):
    CART = "cart", "Cart"
    SHIPPING = "shipping", "Shipping"
    PAYMENT = "payment", "Payment"
    REVIEW = "review", "Review"


class Cart(models.Model):
    """A web shop cart left before checkout, and its recovery (the order it became) if any."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="carts")
    source = models.CharField(max_length=SOURCE_MAX_LENGTH)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    # [{"sku": "SKU-1", "quantity": 2, "price": "49.90"}], as the cart was left.
    items = models.JSONField(default=list)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    abandoned_at = models.DateTimeField(default=timezone.now)
    abandoned_step = models.CharField(max_length=10, choices=CheckoutStep.choices)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-abandoned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="cart_external_id_unique_per_source"
            )
        ]
        indexes = [
            models.Index(
                "customer",
                models.F("abandoned_at").desc(),
                models.F("id").desc(),
                name="cart_customer_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


# Insights: figures derived from a customer's whole history, and the thresholds of their flags.


class FirstTouch(models.TextChoices):
    ORDER = "order", "Order"
    VISIT = "visit", "Web shop visit"
    CONTACT = "contact", "Contact details"


class CustomerInsight(models.Model):
    """What the business knows about a live customer, recomputed in full from the source tables
    after each event that changes it, so that every page reads it in one row. Flags are not
    stored: they are judged at read time against the current InsightThresholds."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="insight"
    )
    customer_since = models.DateTimeField()
    # How she first came: her earliest order, web shop visit or contact point.
    first_touch_at = models.DateTimeField(null=True, blank=True)
    first_touch_kind = models.CharField(max_length=10, choices=FirstTouch.choices, blank=True)
    first_touch_channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    first_touch_source = models.CharField(max_length=10, choices=VisitSource.choices, blank=True)
    first_touch_campaign = models.CharField(max_length=100, blank=True)
    # Channel values she bought, asked, returned or browsed through, in Channel's order.
    channels = models.JSONField(default=list, blank=True)
    # Her top categories by quantity bought: [{"name": "Outerwear", "quantity": 4}].
    favourite_categories = models.JSONField(default=list, blank=True)
    # Orders not cancelled.
    order_count = models.PositiveIntegerField(default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    # Mean days between her orders, and how much the gaps vary (standard deviation / mean).
    order_interval_days = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    order_interval_variation = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    orders_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    average_order_total = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    # What completed returns gave back (refund or exchange credit), and what she spent net of it.
    returned_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    lifetime_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    items_bought = models.PositiveIntegerField(default=0)
    items_returned = models.PositiveIntegerField(default=0)
    value_bought = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    value_returned = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    # Service contacts: inquiries in writing, logged phone calls, call-back requests.
    inquiry_count = models.PositiveIntegerField(default=0)
    call_count = models.PositiveIntegerField(default=0)
    callback_count = models.PositiveIntegerField(default=0)
    open_inquiries = models.PositiveIntegerField(default=0)
    average_rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    # Per offer type: {"percent_off": {"received": 4, "redeemed": 1}}.
    offers = models.JSONField(default=dict, blank=True)
    # Visits per local day and source over the 30 days before computed_at:
    # {"2025-03-02": {"search": 2}}. Readers drop the days that have aged out since.
    visits_by_day = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "customer insight"

    def __str__(self) -> str:
        return f"Insight of customer {self.customer_id}"

    @property
    def contact_count(self) -> int:
        return self.inquiry_count + self.call_count + self.callback_count

    @property
    def contacts_per_order(self) -> Decimal | None:
        if not self.order_count:
            return None
        return (Decimal(self.contact_count) / self.order_count).quantize(Decimal("0.01"))

    @property
    def returns_rate_items(self) -> Decimal | None:
        """Percent of the items she bought that came back."""
        if not self.items_bought:
            return None
        return (Decimal(100 * self.items_returned) / self.items_bought).quantize(Decimal("0.1"))

    @property
    def returns_rate_value(self) -> Decimal | None:
        """Percent of the value of the items she bought that came back."""
        if not self.value_bought:
            return None
        return (100 * self.value_returned / self.value_bought).quantize(Decimal("0.1"))


class InsightThresholds(models.Model):
    """The one row of thresholds a supervisor sets for the insight flags. Without a row the
    field defaults apply."""

    SINGLETON_ID = 1

    returns_rate_percent = models.DecimalField(
        "returns rate above (% of items)",
        max_digits=5,
        decimal_places=1,
        default=Decimal("30"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="High-maintenance needs both this and the contact rate below.",
    )
    contacts_per_order = models.DecimalField(
        "contacts per order above",
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Inquiries, logged calls and call-back requests, per order.",
    )
    valuable_lifetime_value = models.DecimalField(
        "lifetime value above ($)",
        max_digits=12,
        decimal_places=2,
        default=Decimal("1000.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Order totals net of returns.",
    )
    at_risk_min_orders = models.PositiveSmallIntegerField(
        "at least this many orders",
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
    )
    at_risk_variation_percent = models.PositiveSmallIntegerField(
        "gaps between orders vary by at most (% of the mean gap)",
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(500)],
        help_text="How regular her orders must be: 0 means exactly evenly spaced.",
    )
    at_risk_silence_factor = models.DecimalField(
        "silence longer than (× her mean gap)",
        max_digits=4,
        decimal_places=1,
        default=Decimal("2.0"),
        validators=[MinValueValidator(Decimal("1.0")), MaxValueValidator(Decimal("50"))],
    )
    cross_sell_min_orders = models.PositiveSmallIntegerField(
        "orders before her average counts",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="A basket below her average order total suggests adding to it.",
    )
    offer_min_sample = models.PositiveSmallIntegerField(
        "offers of a type received before judging it",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "insight thresholds"
        verbose_name_plural = "insight thresholds"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="insight_thresholds_singleton")
        ]

    def __str__(self) -> str:
        return "Insight thresholds"


INSIGHT_THRESHOLD_FIELDS = (
    "returns_rate_percent",
    "contacts_per_order",
    "valuable_lifetime_value",
    "at_risk_min_orders",
    "at_risk_variation_percent",
    "at_risk_silence_factor",
    "cross_sell_min_orders",
    "offer_min_sample",
)
