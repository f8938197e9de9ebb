"""Field validators shared by the CLI, CSV imports and (later) the web forms."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from pipeline.errors import ValidationError


def required_text(value: str | None, field: str, *, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters, not {len(text)}")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ValidationError(field, "must not contain control characters")
    return text


def optional_url(value: str | None, field: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    return web_url(text, field)


def web_url(value: str, field: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value.strip()):
        raise ValidationError(field, "must not contain control characters")
    try:
        parts = urlsplit(value.strip())
    except ValueError as err:  # e.g. an unbalanced "[" in the host
        raise ValidationError(field, f"{value!r} is not a valid URL") from err
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(field, f"{value!r} must be an http(s) URL")
    if len(value) > 2000:
        raise ValidationError(field, "must be at most 2000 characters")
    return value.strip()


def positive_int(value: str | int, field: str) -> int:
    try:
        number = int(str(value).strip().replace(",", "").replace("_", ""))
    except ValueError as err:
        raise ValidationError(field, f"{value!r} is not a whole number") from err
    if number <= 0:
        raise ValidationError(field, f"{value!r} must be greater than zero")
    if number > 1_000_000_000:
        raise ValidationError(field, f"{value!r} is implausibly large")
    return number


def currency_code(value: str, field: str = "currency") -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValidationError(field, f"{value!r} is not a three-letter currency code such as USD")
    return code


def iso_date(value: str | date, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError as err:
        raise ValidationError(field, f"{value!r} is not a date such as 2026-11-24") from err


def range_pair(low: int, high: int, field: str = "high") -> None:
    if high < low:
        raise ValidationError(field, f"{high:,} must not be below low ({low:,})")
