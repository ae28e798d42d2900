from django import template

from customers.identifiers import format_phone
from customers.models import COMMENT_MAX_LENGTH

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """An E.164 number as staff read it: "+14155550100" -> "(415) 555-0100"."""
    return format_phone(value) if value else ""


ACTIVITY_ICONS = {
    "order_placed": "bag",
    "order_status": "truck",
    "comment_added": "chat-left-text",
    "contact_added": "person-plus",
    "customers_merged": "union",
    "pickup_ready": "bell",
    "pickup_collected": "bag-check",
    "pickup_expired": "hourglass-bottom",
    "pickup_cancelled": "x-circle",
    "return_requested": "box-arrow-in-left",
    "return_received": "arrow-return-left",
    "inquiry_opened": "question-circle",
    "inquiry_message": "chat-left-dots",
    "inquiry_replied": "reply",
    "inquiry_status": "check2-circle",
    "inquiry_rated": "star",
    "call_logged": "telephone",
    "callback_requested": "telephone-forward",
    "callback_logged": "telephone-outbound",
    "offer_sent": "megaphone",
    "offer_opened": "envelope-open",
    "offer_clicked": "cursor",
    "offer_redeemed": "tag",
    "visit": "globe2",
    "wishlist_changed": "heart",
    "cart_abandoned": "cart-x",
    "cart_recovered": "cart-check",
}

CHANNEL_ICONS = {
    "web": "globe2",
    "store": "shop",
    "phone": "telephone",
    "kiosk": "tablet",
    "email": "envelope",
    "web_form": "ui-checks",
    "portal": "person-badge",
    "callback": "telephone-forward",
    "system": "gear",
}


@register.filter
def activity_icon(kind: str) -> str:
    return ACTIVITY_ICONS.get(kind, "circle")


@register.filter
def channel_icon(channel: str) -> str:
    """The bootstrap-icons name for a channel (web shop, store, phone...)."""
    return CHANNEL_ICONS.get(channel, "circle")


@register.filter
def timeline_icon(activity: object) -> str:
    """Orders show where they were placed; every other entry shows what happened."""
    kind = getattr(activity, "kind", "")
    if kind == "order_placed":
        return {"web": "cart3", "store": "shop", "phone": "telephone", "kiosk": "tablet"}.get(
            getattr(activity, "channel", ""), "bag"
        )
    return activity_icon(kind)


@register.filter
def initials(person: object) -> str:
    """Up to two capital letters for an avatar: "Ana María López" -> "AL"; "" without a name."""
    first = (getattr(person, "first_name", "") or "").strip()
    last = (getattr(person, "last_name", "") or "").strip()
    return f"{first[:1]}{last[:1]}".upper()


@register.simple_tag
def comment_max_length() -> int:
    """The longest comment the comment service accepts, for the text box's maxlength."""
    return COMMENT_MAX_LENGTH


@register.filter
def pair(first: object, second: object) -> tuple[object, object]:
    return (first, second)
