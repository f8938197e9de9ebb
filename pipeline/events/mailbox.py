"""The inbound SMTP path: bounces, complaints and ``mailto:`` unsubscribes from a mailbox.

For operators sending through plain SMTP, the news comes back as mail to the sender:
RFC 3464 delivery status notifications (``multipart/report; report-type=delivery-status``),
RFC 5965 ARF complaints (``report-type=feedback-report``), and the messages our
List-Unsubscribe ``mailto:`` produces (subject ``unsubscribe <token>``). Everything is read
with the standard library (``mailbox`` and ``email``); anything else in the box is skipped.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from pipeline.errors import ValidationError
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    is_plausible_time,
)
from subscribers.database import utcnow
from subscribers.tokens import InvalidToken, TokenSigner

NAME = "mailbox"
_UNSUBSCRIBE = re.compile(r"^\s*unsubscribe\s+(\S+)\s*$", re.IGNORECASE)
_STATUS = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}")
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


def scan_mailbox(path: Path, signer: TokenSigner) -> MailboxScan:
    """Parse every message of the mailbox at ``path`` into events."""
    scan = MailboxScan()
    box = open_mailbox(path)
    try:
        for key in box.iterkeys():
            scan.messages += 1
            raw = box.get_bytes(key)
            message = BytesParser(policy=email_policy.compat32).parsebytes(raw)
            try:
                events, why_not = parse_message(message, raw, signer)
            except _MESSAGE_SURPRISES as err:  # a mailbox holds any mail; never stop on one
                events, why_not = [], f"unreadable ({type(err).__name__})"
            scan.events.extend(events)
            if why_not:
                scan.skipped.append(f"message {scan.messages}: {why_not}")
    finally:
        box.close()
    return scan


def parse_message(
    message: Message, raw: bytes, signer: TokenSigner
) -> tuple[list[NormalisedEvent], str | None]:
    """Events in one message, or none and the reason it was skipped."""
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        events = _delivery_status(message, raw)
        return events, None if events else "a delivery report with no failed recipient"
    if content_type == "multipart/report" and report_type == "feedback-report":
        events = _feedback_report(message, raw)
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
    return [], f"not a report or unsubscribe ({content_type})"


def _delivery_status(report: Message, raw: bytes) -> list[NormalisedEvent]:
    """One event per failed or delayed recipient of an RFC 3464 report."""
    status_part = _first_part(report, "message/delivery-status")
    if status_part is None:
        return []
    # The stdlib parses delivery-status into header blocks: per-message, then per-recipient.
    blocks = status_part.get_payload()
    if not isinstance(blocks, list):
        return []
    original = _original_message_id(report)
    events = []
    for block in blocks[1:]:
        if not isinstance(block, Message):
            continue
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip()
        recipient = _address_field(block.get("Final-Recipient") or block.get("Original-Recipient"))
        if recipient is None or action not in ("failed", "delayed"):
            continue
        code = _STATUS.match(status)
        if action == "delayed" or (code and code.group(1) == "4" and action != "failed"):
            event_type, kind = EventType.DEFERRED, None
        else:
            # 5.x.x is permanent (RFC 3463); a failure with 4.x.x gave up on a transient one.
            permanent = code is None or code.group(1) == "5"
            event_type = EventType.BOUNCED
            kind = BounceKind.HARD if permanent else BounceKind.SOFT
        diagnostic = str(block.get("Diagnostic-Code", "")).strip()
        events.append(
            NormalisedEvent(
                provider=NAME,
                event_key=_key(report, raw, f"dsn:{recipient}"),
                type=event_type,
                bounce_kind=kind,
                recipient=recipient,
                provider_message_id=original,
                occurred_at=_date(report),
                raw=_text(raw),
                detail=f"{status or 'no status'} {diagnostic}".strip(),
            )
        )
    return events


def _feedback_report(report: Message, raw: bytes) -> list[NormalisedEvent]:
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
