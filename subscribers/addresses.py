"""Email address normalisation."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from pulse_core.errors import ValidationError


def normalise_email(raw: str, *, field: str = "email", check_deliverability: bool = False) -> str:
    """Return the normalised form of ``raw`` or raise :class:`ValidationError` naming ``field``."""
    candidate = raw.strip()
    if not candidate:
        raise ValidationError(field, "an email address is required")
    if len(candidate) > 320:
        raise ValidationError(field, "the address is too long")
    try:
        result = validate_email(candidate, check_deliverability=check_deliverability)
    except EmailNotValidError as err:
        raise ValidationError(field, f"{candidate!r} is not a valid email address ({err})") from err
    if len(result.normalized) > 320:
        raise ValidationError(field, "the address is too long")
    return result.normalized


def email_key(email: str) -> str:
    """The case-insensitive identity of an address, used for uniqueness and suppression."""
    return email.casefold()
