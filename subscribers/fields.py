"""Validating the personal fields a subscriber gives besides the address."""

from __future__ import annotations

from subscribers.errors import ValidationError

MAX_NAME_LENGTH = 100


def clean_first_name(raw: str | None, *, field: str = "first_name") -> str | None:
    """Strip a first name; reject control characters and overlong values."""
    if raw is None:
        return None
    name = raw.strip()
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
        raise ValidationError(field, "must not contain control characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        raise ValidationError(field, "must be valid text")
    return name
