from django import template

from customers.identifiers import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """An E.164 number as staff read it: "+14155550100" -> "(415) 555-0100"."""
    return format_phone(value) if value else ""


ACTIVITY_ICONS = {
    "order_placed": "bag",
    "comment_added": "chat-left-text",
    "contact_added": "person-plus",
    "customers_merged": "union",
}


@register.filter
def activity_icon(kind: str) -> str:
    return ACTIVITY_ICONS.get(kind, "circle")


@register.filter
def pair(first: object, second: object) -> tuple[object, object]:
    return (first, second)
