"""The normalised event every provider module produces, and helpers to build one safely.

Provider payloads are untrusted JSON even after verification (a provider may add fields or
send shapes we have not seen), so the helpers here turn every surprise into
:class:`MalformedEvent` naming the field, never a KeyError or a 500.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.events.errors import MalformedEvent
from pipeline.events.models import BounceKind, EventType

EVENT_KEY_LENGTH = 200
# Event times outside this range are not mail events but broken payloads.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class NormalisedEvent:
    """One thing a provider said about one recipient, in the project's vocabulary."""

    provider: str
    event_key: str
    type: EventType
    recipient: str | None
    provider_message_id: str | None
    occurred_at: datetime
    raw: str
    bounce_kind: BounceKind | None = None
    detail: str | None = None
    # Set only where the payload itself proves who it is about (a signed unsubscribe token).
    subscriber_id: int | None = None
    # Set only where the payload proves which delivery it is about (our signed VERP token).
    delivery_id: int | None = None
    # A claim anyone could have mailed us (the bounce mailbox): it may change a subscriber
    # only once linked to a message we sent to that recipient (see matching.Match.proven).
    needs_proof: bool = False


def event_key(*parts: object) -> str:
    """A dedupe key from the provider's own identifiers, hashed when it would not fit."""
    key = ":".join("" if part is None else str(part) for part in parts)
    if len(key) <= EVENT_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def payload_hash(payload: object) -> str:
    """A stable hash of a JSON payload, for providers whose events carry no id."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def raw_json(payload: object) -> str:
    """The payload as stored: compact JSON, keys in the provider's order."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def load_json(body: bytes, provider: str) -> Any:
    """Decode a request body, or raise :class:`MalformedEvent`."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MalformedEvent("body", f"{provider} sent a body that is not JSON ({err})") from err


def require_object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedEvent(field, "must be a JSON object")
    return value


def get_str(payload: Mapping[str, Any], name: str, *, field: str | None = None) -> str | None:
    """An optional string field; anything else but null is malformed."""
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEvent(field or name, "must be a string")
    return value


def get_object(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """An optional nested object, empty when absent."""
    value = payload.get(name)
    if value is None:
        return {}
    return require_object(value, name)


def parse_iso_time(value: str | None, field: str) -> datetime:
    """An ISO 8601 timestamp in UTC; now when the payload has none."""
    if value is None:
        return datetime.now(UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as err:
        raise MalformedEvent(field, f"{value!r} is not an ISO 8601 time") from err
    return _plausible(moment, field)


def parse_unix_time(value: object, field: str) -> datetime:
    """Seconds since the epoch (int, float or numeric string); now when absent."""
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedEvent(field, "must be a Unix timestamp")
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError) as err:
        raise MalformedEvent(field, f"{value!r} is not a Unix timestamp") from err
    return _plausible(moment, field)


def is_plausible_time(moment: datetime) -> bool:
    """Whether a mail event could have happened then (also keeps the policy's windows sane)."""
    return _EARLIEST <= moment < _LATEST


def _plausible(moment: datetime, field: str) -> datetime:
    if not is_plausible_time(moment):
        raise MalformedEvent(field, f"{moment.isoformat()} is not a plausible event time")
    return moment


def clean_recipient(value: str | None) -> str | None:
    """An address as providers report it, without display name or brackets."""
    if value is None:
        return None
    address = value.strip()
    if "<" in address and address.endswith(">"):
        address = address[address.rindex("<") + 1 : -1]
    if not address or len(address) > 320 or "@" not in address:
        return None
    return address
