"""Timestamp tolerance shared by the signed-webhook providers."""

from __future__ import annotations

from pipeline.events.errors import WebhookRejected
from pipeline.events.providers.base import VerifyContext


def check_fresh(provider: str, timestamp: str, context: VerifyContext) -> float:
    """Refuse a signature timestamp outside the tolerance (in either direction)."""
    try:
        seconds = float(timestamp)
    except ValueError as err:
        raise WebhookRejected(provider, "unreadable signature timestamp", status_code=401) from err
    tolerance = context.credentials.tolerance_seconds
    if seconds != seconds or abs(context.clock() - seconds) > tolerance:  # NaN never passes
        raise WebhookRejected(provider, "signature timestamp outside the tolerance")
    return seconds
