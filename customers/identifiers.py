"""Normalising the identifiers customers are found by, so one person's details match themselves."""

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def normalize_email(raw: str) -> str:
    """Lower-case, trimmed; "+tag" sub-addressing removed where CRM_STRIP_EMAIL_SUBADDRESS is on."""
    value = raw.strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            f"“{raw.strip()}” is not a valid e-mail address.", code="email"
        ) from None
    if settings.CRM_STRIP_EMAIL_SUBADDRESS:
        local, _, domain = value.rpartition("@")
        value = f"{local.split('+', 1)[0]}@{domain}"
    return value


def normalize_phone(raw: str, region: str | None = None) -> str:
    """E.164, so "(415) 555-0100", "415.555.0100" and "+1 415 555 0100" are one number."""
    try:
        number = phonenumbers.parse(raw, region or settings.CRM_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"“{raw.strip()}” is not a phone number.", code="phone") from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(f"“{raw.strip()}” is not a valid phone number.", code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored E.164 number as staff read it: national format at home, international abroad."""
    number = phonenumbers.parse(e164)
    home = phonenumbers.country_code_for_region(settings.CRM_DEFAULT_PHONE_REGION)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


_LOYALTY_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_loyalty(raw: str) -> str:
    value = _LOYALTY_SEPARATORS.sub("", raw).upper()
    if not value.isalnum() or not 4 <= len(value) <= 32:
        raise ValidationError(
            f"“{raw.strip()}” is not a loyalty card number (4 to 32 letters and digits).",
            code="loyalty",
        )
    return value


def external_value(system: str, external_id: str) -> str:
    system, external_id = system.strip().lower(), external_id.strip()
    if not system or not external_id or ":" in system:
        raise ValidationError("An external id needs a system name and an id.", code="external")
    return f"{system}:{external_id}"


def search_key(text: str) -> str:
    """Lower-case, accents removed, single spaces: "  Zoë  O'Brien" -> "zoe o'brien"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def name_keys(first_name: str, last_name: str) -> tuple[str, str]:
    """A customer's name as name search reads it from the start: ("first last", "last first"),
    each a search_key."""
    return search_key(f"{first_name} {last_name}"), search_key(f"{last_name} {first_name}")
