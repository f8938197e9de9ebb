"""The inbound SMTP path: bounces, complaints and ``mailto:`` unsubscribes from a mailbox.

For operators sending through plain SMTP, the news comes back as mail to the sender:
RFC 3464 delivery status notifications (read leniently, see :mod:`pipeline.events.dsn`),
the non-standard bounces of qmail, Exim, Yahoo, older Exchange and others (through
flufl.bounce's detectors, when no report part is found), RFC 5965 ARF complaints, and the
messages our List-Unsubscribe ``mailto:`` produces (subject ``unsubscribe <token>``).

Anyone can mail the bounce address, so a bounce or complaint is only a claim: its events
carry ``needs_proof`` and change a subscriber only when they are linked to a message we sent
to that recipient — by our VERP return path (a signed delivery token, see
:mod:`pipeline.delivery.verp`) or by the original Message-ID. The rest are stored as
unmatched and change nothing. A mailto unsubscribe carries its own proof: a signed token.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from flufl.bounce import all_failures

from pipeline.delivery.verp import ReturnPaths
from pipeline.errors import ValidationError
from pipeline.events.dsn import failed_recipients, plausible_address, status_parts
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    is_plausible_time,
)
from pulse_core.database import utcnow
from subscribers.tokens import InvalidToken, TokenSigner

NAME = "mailbox"
_UNSUBSCRIBE = re.compile(r"^\s*unsubscribe\s+(\S+)\s*$", re.IGNORECASE)
_MESSAGE_SURPRISES = (ValueError, TypeError, AttributeError, LookupError, MessageError)


@dataclass
class MailboxScan:
    """The events found, and why other messages were passed over."""

    events: list[NormalisedEvent] = field(default_factory=list)
    messages: int = 0
    skipped: list[str] = field(default_factory=list)


def open_mailbox(path: Path) -> mailbox.Mailbox[mailbox.Message]:
    """A Maildir (a folder with cur/ and new/) or an mbox file."""
    if path.is_dir():
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise ValidationError("PATH", f"{path} is a folder but not a Maildir (no cur/, new/)")
        return mailbox.Maildir(path, factory=None, create=False)
    if not path.is_file():
        raise ValidationError("PATH", f"{path} does not exist")
    return mailbox.mbox(path, factory=None, create=False)


def scan_mailbox(
    path: Path, signer: TokenSigner, return_paths: ReturnPaths | None = None
) -> MailboxScan:
    """Parse every message of the mailbox at ``path`` into events.

    ``return_paths`` reads the VERP tokens our SMTP return paths carry (any domain: only
    the signing keys matter), which link a bounce to its delivery.
    """
    scan = MailboxScan()
    box = open_mailbox(path)
    try:
        for key in box.iterkeys():
            scan.messages += 1
            raw = box.get_bytes(key)
            message = BytesParser(policy=email_policy.compat32).parsebytes(raw)
            try:
                events, why_not = parse_message(message, raw, signer, return_paths)
            except _MESSAGE_SURPRISES as err:  # a mailbox holds any mail; never stop on one
                events, why_not = [], f"unreadable ({type(err).__name__})"
            scan.events.extend(events)
            if why_not:
                scan.skipped.append(f"message {scan.messages}: {why_not}")
    finally:
        box.close()
    return scan


def parse_message(
    message: Message, raw: bytes, signer: TokenSigner, return_paths: ReturnPaths | None = None
) -> tuple[list[NormalisedEvent], str | None]:
    """Events in one message, or none and the reason it was skipped."""
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type") or "").lower()
    delivery_id = return_paths.delivery_in(_text(raw)) if return_paths is not None else None
    if status_parts(message):
        events = _delivery_status(message, raw, delivery_id)
        # A report part naming nobody: the text beside it may still (flufl.bounce below).
        if events:
            return events, None
    if report_type == "feedback-report" or _first_part(message, "message/feedback-report"):
        events = _feedback_report(message, raw, delivery_id)
        return events, None if events else "a feedback report without a recipient"
    subject = str(make_header(decode_header(str(message.get("Subject", "")))))
    match = _UNSUBSCRIBE.match(subject)
    if match:
        token = match.group(1)
        try:
            subject_of = signer.read_unsubscribe(token)
        except InvalidToken:
            return [], "an unsubscribe request with an invalid token"
        event = NormalisedEvent(
            provider=NAME,
            event_key=_key(message, raw, "unsubscribe"),
            type=EventType.UNSUBSCRIBED,
            recipient=None,
            provider_message_id=None,
            occurred_at=_date(message),
            # The token would unsubscribe this person again: not kept in the stored copy.
            raw=_text(raw).replace(token, "[unsubscribe token]"),
            detail="mailto unsubscribe from " + (parseaddr(str(message.get("From", "")))[1] or "?"),
            subscriber_id=subject_of.subscriber_id,
        )
        return [event], None
    events = _non_dsn_bounce(raw, message, delivery_id)
    if events:
        return events, None
    if status_parts(message):
        return [], "a delivery report with no failed recipient"
    return [], f"not a report, bounce or unsubscribe ({content_type})"


def _delivery_status(report: Message, raw: bytes, delivery_id: int | None) -> list[NormalisedEvent]:
    """One event per failed or delayed recipient of an RFC 3464 report."""
    original = _original_message_id(report)
    events = []
    for recipient in failed_recipients(report):
        if recipient.delayed:
            event_type, kind = EventType.DEFERRED, None
        else:
            event_type = EventType.BOUNCED
            kind = BounceKind.HARD if recipient.permanent else BounceKind.SOFT
        detail = f"{recipient.status or 'no status'} {recipient.diagnostic}".strip()
        events.append(
            NormalisedEvent(
                provider=NAME,
                event_key=_key(report, raw, f"dsn:{recipient.address}"),
                type=event_type,
                bounce_kind=kind,
                recipient=recipient.address,
                provider_message_id=original,
                occurred_at=_date(report),
                raw=_text(raw),
                detail=detail,
                delivery_id=delivery_id,
                needs_proof=True,
            )
        )
    return events


def _non_dsn_bounce(raw: bytes, report: Message, delivery_id: int | None) -> list[NormalisedEvent]:
    """qmail, Exim, Yahoo, Exchange and other home-made bounces, read by flufl.bounce."""
    try:
        temporary, permanent = all_failures(message_from_bytes(raw))
    except _MESSAGE_SURPRISES:
        return []
    found: dict[str, EventType] = {}
    for value, event_type in [
        *((v, EventType.BOUNCED) for v in sorted(permanent)),
        *((v, EventType.DEFERRED) for v in sorted(temporary)),
    ]:
        address = plausible_address(value.decode("utf-8", "replace"))
        if address is not None:
            found.setdefault(address, event_type)
    original = _original_message_id(report)
    return [
        NormalisedEvent(
            provider=NAME,
            event_key=_key(report, raw, f"bounce:{address}"),
            type=event_type,
            bounce_kind=BounceKind.HARD if event_type is EventType.BOUNCED else None,
            recipient=address,
            provider_message_id=original,
            occurred_at=_date(report),
            raw=_text(raw),
            detail="non-DSN bounce (read by flufl.bounce)",
            delivery_id=delivery_id,
            needs_proof=True,
        )
        for address, event_type in found.items()
    ]


def _feedback_report(report: Message, raw: bytes, delivery_id: int | None) -> list[NormalisedEvent]:
    """An ARF complaint: Feedback-Type abuse is a complaint; other types are stored only."""
    feedback = _first_part(report, "message/feedback-report")
    fields: Message | None = None
    if feedback is not None:
        payload = feedback.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            fields = payload[0]
    if fields is None:
        return []
    feedback_type = str(fields.get("Feedback-Type", "")).strip().lower()
    original_headers = _original_headers(report)
    recipient = _address_field(fields.get("Original-Rcpt-To"))
    if recipient is None and original_headers is not None:
        recipient = clean_recipient(parseaddr(str(original_headers.get("To", "")))[1])
    if recipient is None:
        return []
    event_type = EventType.COMPLAINED if feedback_type == "abuse" else EventType.UNKNOWN
    return [
        NormalisedEvent(
            provider=NAME,
            event_key=_key(report, raw, f"arf:{recipient}"),
            type=event_type,
            recipient=recipient,
            provider_message_id=_original_message_id(report),
            occurred_at=_date(report),
            raw=_text(raw),
            detail=f"feedback-type {feedback_type or 'missing'}",
            delivery_id=delivery_id,
            needs_proof=True,
        )
    ]


def _first_part(message: Message, content_type: str) -> Message | None:
    return next((p for p in message.walk() if p.get_content_type() == content_type), None)


def _original_headers(report: Message) -> Message | None:
    """The returned message (message/rfc822) or its headers (text/rfc822-headers)."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                return HeaderParser().parsestr(text.decode("utf-8", "replace"))
    return None


def _original_message_id(report: Message) -> str | None:
    headers = _original_headers(report)
    value = str(headers.get("Message-ID", "")).strip() if headers is not None else ""
    return value[:200] or None


def _address_field(value: object) -> str | None:
    """``rfc822; someone@example.com`` → ``someone@example.com``."""
    if value is None:
        return None
    _type, _, address = str(value).partition(";")
    return clean_recipient((address or _type).strip())


def _date(message: Message) -> datetime:
    """The report's Date header; now when it is missing, unreadable or implausible."""
    try:
        moment = parsedate_to_datetime(str(message.get("Date", "")))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return utcnow()
    return moment if is_plausible_time(moment) else utcnow()


def _key(message: Message, raw: bytes, suffix: str) -> str:
    """The report's own Message-ID when it has one, else a hash of its bytes."""
    own = str(message.get("Message-ID", "")).strip()
    base = own or "sha256:" + hashlib.sha256(raw).hexdigest()
    return event_key(base, suffix)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")
