"""Validating the personal fields a subscriber gives besides the address."""

from __future__ import annotations

from pulse_core.errors import ValidationError
from subscribers.display import check_header_text

MAX_NAME_LENGTH = 100


def clean_first_name(raw: str | None, *, field: str = "first_name") -> str | None:
    """Strip a first name; reject control characters, encoded-words and overlong values.

    The name goes into the ``To:`` header of every message, so it must pass the header
    checks of :mod:`subscribers.display`.
    """
    if raw is None:
        return None
    name = raw.strip()
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_NAME_LENGTH} characters")
    return check_header_text(name, field)
