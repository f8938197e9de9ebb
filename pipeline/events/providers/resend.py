"""Resend: Svix-signed webhooks (``svix-id``, ``svix-timestamp``, ``svix-signature``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from pipeline.events.errors import MalformedEvent, WebhookRejected
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    get_object,
    get_str,
    load_json,
    parse_iso_time,
    payload_hash,
    raw_json,
    require_object,
)
from pipeline.events.providers.base import EventSource, VerifyContext, WebhookRequest
from pipeline.events.providers.timing import check_fresh

NAME = "resend"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret
_HARD_WORDS = re.compile(
    r"\b(hard[ -]bounce|permanent(ly)?|does not exist|doesn't exist|no such user|"
    r"invalid (recipient|address)|5\.\d{1,3}\.\d{1,3})\b",
    re.IGNORECASE,
)
_SOFT_WORDS = re.compile(
    r"\b(soft[ -]bounce|transient|temporar(y|ily)|mailbox (is )?full|4\.\d{1,3}\.\d{1,3})\b",
    re.IGNORECASE,
)

_EVENTS = {
    "email.delivered": EventType.DELIVERED,
    "email.delivery_delayed": EventType.DEFERRED,
    "email.complained": EventType.COMPLAINED,
    "email.opened": EventType.OPENED,
    "email.clicked": EventType.CLICKED,
    "email.failed": EventType.REJECTED,
}


def svix_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """base64 HMAC-SHA256 of ``id.timestamp.body`` keyed by the secret after ``whsec_``."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as err:
        raise WebhookRejected(NAME, "PULSE_RESEND_WEBHOOK_SECRET is not base64") from err
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def authenticate(request: WebhookRequest, context: VerifyContext) -> object:
    """Check any ``v1,`` signature in the header against ours, then the timestamp."""
    secret = context.credentials.resend_secret
    if secret is None:
        raise WebhookRejected(NAME, "the webhook secret is not configured")
    message_id = request.header("svix-id")
    timestamp = request.header("svix-timestamp")
    header = request.header("svix-signature")
    if not message_id or not timestamp or not header:
        raise WebhookRejected(NAME, "svix headers missing", status_code=401)
    expected = svix_signature(secret.get_secret_value(), message_id, timestamp, request.body)
    # The header lists space-separated "version,signature" pairs (several during key rotation).
    offered = [part.partition(",") for part in header.split()]
    if not any(
        version == "v1" and hmac.compare_digest(signature.encode(), expected.encode())
        for version, _, signature in offered
    ):
        raise WebhookRejected(NAME, "signature does not verify")
    check_fresh(NAME, timestamp, context)
    return load_json(request.body, NAME)


def parse(payload: object) -> list[NormalisedEvent]:
    """One Resend event ({type, created_at, data}) → one event per address in ``data.to``."""
    event = require_object(payload, "body")
    name = get_str(event, "type") or ""
    data = get_object(event, "data")
    kind: BounceKind | None = None
    detail: str | None = None
    if name == "email.bounced":
        bounce = get_object(data, "bounce")
        message = get_str(bounce, "message", field="data.bounce.message") or ""
        bounce_type = get_str(bounce, "type", field="data.bounce.type") or _legacy_type(message)
        event_type = EventType.BOUNCED
        kind = BounceKind.HARD if bounce_type == "Permanent" else BounceKind.SOFT
        detail = f"{bounce_type}: {message}".strip()
    else:
        event_type = _EVENTS.get(name, EventType.UNKNOWN)
    message_id = get_str(data, "email_id", field="data.email_id")
    when = parse_iso_time(get_str(event, "created_at"), "created_at")
    # Resend's body has no event id (it is in the svix-id header): hash the event instead.
    base = payload_hash(event)
    return [
        NormalisedEvent(
            provider=NAME,
            event_key=event_key(base, recipient) if recipient else base,
            type=event_type,
            bounce_kind=kind,
            recipient=clean_recipient(recipient),
            provider_message_id=message_id,
            occurred_at=when,
            raw=raw_json(event),
            detail=detail or name or None,
        )
        for recipient in _recipients(data) or [None]
    ]


def _legacy_type(message: str) -> str:
    """Older bounce events carry no ``bounce.type``, only a sentence: read the kind from it
    (Resend relays SES's vocabulary: Permanent, Transient, Undetermined)."""
    if _HARD_WORDS.search(message):
        return "Permanent"
    if _SOFT_WORDS.search(message):
        return "Transient"
    return "Undetermined"


def _recipients(data: Mapping[str, Any]) -> list[str | None]:
    value = data.get("to")
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedEvent("data.to", "must be a list of addresses")
    return list(value)


SOURCE = EventSource(NAME, authenticate, parse)
