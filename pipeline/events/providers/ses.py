"""Amazon SES through SNS: verify the SNS envelope, then normalise the SES notification.

SES publishes either "notifications" (``notificationType``) or "event publishing" records
(``eventType``); both share the ``mail`` object and one sub-object per kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.events.errors import MalformedEvent
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    get_object,
    get_str,
    load_json,
    parse_iso_time,
    raw_json,
    require_object,
)
from pipeline.events.providers.base import EventSource, VerifyContext, WebhookRequest
from pipeline.events.providers.sns import NAME, confirm_subscription, verify_envelope

_SIMPLE = {
    "Delivery": (EventType.DELIVERED, "delivery"),
    "DeliveryDelay": (EventType.DEFERRED, "deliveryDelay"),
    "Reject": (EventType.REJECTED, "reject"),
    "Open": (EventType.OPENED, "open"),
    "Click": (EventType.CLICKED, "click"),
    # SES answered SUCCESS, then could not render the template and sent nothing
    # (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html,
    # "Rendering Failure" with a ``failure`` object); only a configuration set reports it.
    "Rendering Failure": (EventType.REJECTED, "failure"),
}


def authenticate(request: WebhookRequest, context: VerifyContext) -> object:
    """Verify the SNS envelope; confirm a subscription to an expected topic."""
    envelope = require_object(load_json(request.body, NAME), "body")
    verify_envelope(envelope, context)
    if envelope.get("Type") == "SubscriptionConfirmation":
        confirm_subscription(envelope, context)
    return envelope


def parse(payload: object) -> list[NormalisedEvent]:
    """An SNS envelope (as posted) or a bare SES notification (as saved for backfill)."""
    item = require_object(payload, "body")
    message_type = item.get("Type")
    if message_type in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return []
    if message_type == "Notification":
        message = item.get("Message")
        if not isinstance(message, str):
            raise MalformedEvent("Message", "must be a JSON string")
        try:
            notification = json.loads(message)
        except json.JSONDecodeError as err:
            raise MalformedEvent("Message", f"is not JSON ({err})") from err
        return _notification(require_object(notification, "Message"))
    return _notification(item)


def _notification(notification: Mapping[str, Any]) -> list[NormalisedEvent]:
    kind = get_str(notification, "notificationType") or get_str(notification, "eventType") or ""
    mail = get_object(notification, "mail")
    message_id = get_str(mail, "messageId", field="mail.messageId")
    raw = raw_json(notification)
    if kind == "Bounce":
        bounce = get_object(notification, "bounce")
        bounce_type = get_str(bounce, "bounceType", field="bounce.bounceType") or "Undetermined"
        # Only Permanent is certain; Transient and Undetermined may clear up.
        bounce_kind = BounceKind.HARD if bounce_type == "Permanent" else BounceKind.SOFT
        return [
            _event(
                kind,
                message_id,
                bounce,
                EventType.BOUNCED,
                raw,
                recipient,
                bounce_kind=bounce_kind,
                detail=f"{bounce_type}: {diagnostic}",
            )
            for recipient, diagnostic in _addresses(bounce, "bouncedRecipients")
        ]
    if kind == "Complaint":
        complaint = get_object(notification, "complaint")
        feedback = get_str(complaint, "complaintFeedbackType") or "abuse"
        # "not-spam" is a mailbox provider saying the opposite of a complaint.
        event_type = EventType.UNKNOWN if feedback == "not-spam" else EventType.COMPLAINED
        return [
            _event(kind, message_id, complaint, event_type, raw, recipient, detail=feedback)
            for recipient, _ in _addresses(complaint, "complainedRecipients")
        ]
    if kind in _SIMPLE:
        event_type, section_name = _SIMPLE[kind]
        section = get_object(notification, section_name)
        if kind == "Delivery":
            recipients = _strings(section.get("recipients"), "delivery.recipients")
        elif kind == "DeliveryDelay":
            recipients = [a for a, _ in _addresses(section, "delayedRecipients")]
        else:
            recipients = _strings(mail.get("destination"), "mail.destination")
        detail = (
            get_str(section, "reason")
            or get_str(section, "smtpResponse")
            or get_str(section, "errorMessage")
        )
        return [
            _event(kind, message_id, section, event_type, raw, recipient, detail=detail)
            for recipient in recipients
        ]
    destination: list[str | None] = [*_strings(mail.get("destination"), "mail.destination")]
    return [
        _event(kind or "unknown", message_id, mail, EventType.UNKNOWN, raw, recipient)
        for recipient in destination or [None]
    ]


def _event(
    kind: str,
    message_id: str | None,
    section: Mapping[str, Any],
    event_type: EventType,
    raw: str,
    recipient: str | None,
    *,
    bounce_kind: BounceKind | None = None,
    detail: str | None = None,
) -> NormalisedEvent:
    timestamp = get_str(section, "timestamp")
    # feedbackId identifies a bounce or complaint; otherwise the message, kind and time do.
    identity = get_str(section, "feedbackId") or timestamp
    return NormalisedEvent(
        provider=NAME,
        event_key=event_key(kind, message_id, identity, recipient),
        type=event_type,
        bounce_kind=bounce_kind,
        recipient=clean_recipient(recipient),
        provider_message_id=message_id,
        occurred_at=parse_iso_time(timestamp, f"{kind}.timestamp"),
        raw=raw,
        detail=detail,
    )


def _addresses(section: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    """(emailAddress, diagnostic) for each entry of a recipients list."""
    value = section.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedEvent(name, "must be a list")
    found = []
    for entry in value:
        item = require_object(entry, name)
        address = get_str(item, "emailAddress", field=f"{name}.emailAddress")
        if address:
            diagnostic = get_str(item, "diagnosticCode") or get_str(item, "status") or ""
            found.append((address, diagnostic))
    return found


def _strings(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedEvent(field, "must be a list of addresses")
    return list(value)


SOURCE = EventSource(NAME, authenticate, parse)
