"""Reading delivery status notifications (RFC 3464) as MTAs really write them.

Strict readers miss most real reports. What this module accepts, each seen in the wild:

* the report part anywhere: top level, nested in ``multipart/mixed``, or under a
  ``multipart/report`` that forgot its ``report-type``; ``message/global-delivery-status``
  (RFC 6533) and ``text/delivery-status`` too;
* ``Action: failed (comment)``, and ``failure``/``error`` for ``failed``;
* a whitespace-only line between fields (the parser folds it into the previous field,
  so per-message and per-recipient fields can share one block);
* ``Original-Recipient`` preferred over ``Final-Recipient``: a relay that rewrote the
  address to an internal one reports the internal one as final, and suppressing that
  would leave the real subscriber on the list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from pipeline.events.normalised import clean_recipient

STATUS_PARTS = (
    "message/delivery-status",
    "message/global-delivery-status",
    "text/delivery-status",
)
_RECIPIENT_FIELDS = ("original-recipient", "final-recipient")
_FAILED = {"failed", "failure", "error", "bounced", "bounce"}
_DELAYED = {"delayed", "delay"}
_STATUS = re.compile(r"([245])\.\d{1,3}\.\d{1,3}")
# A dot-atom local part and a dotted domain: reports also carry obfuscated or partial
# addresses ("david...@gmail.com"), which must not be taken for a recipient.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def plausible_address(value: str | None) -> str | None:
    """``value`` as a recipient address if it could be one, else None."""
    address = clean_recipient(value)
    if address is None or not _ADDRESS.match(address):
        return None
    return address


@dataclass(frozen=True)
class DsnRecipient:
    """One recipient a report says failed or was delayed."""

    address: str
    delayed: bool
    status: str | None  # the RFC 3463 code, e.g. "5.1.1"
    diagnostic: str

    @property
    def permanent(self) -> bool:
        """5.x.x is permanent; a failure with no code is too; 4.x.x is not (RFC 3463)."""
        return self.status is None or self.status.startswith("5")


def status_parts(message: Message) -> list[Message]:
    """Every delivery-status part of ``message``, however deeply nested."""
    return [part for part in message.walk() if part.get_content_type() in STATUS_PARTS]


def failed_recipients(message: Message) -> list[DsnRecipient]:
    """Failed and delayed recipients of every report part, in order, each address once."""
    found: dict[str, DsnRecipient] = {}
    for part in status_parts(message):
        for fields in _recipient_groups(_field_blocks(part)):
            recipient = _recipient(fields)
            if recipient is not None and recipient.address.lower() not in found:
                found[recipient.address.lower()] = recipient
    return list(found.values())


def _field_blocks(part: Message) -> Iterator[list[tuple[str, str]]]:
    """The (name, value) fields of each block of a delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib parses message/delivery-status into blocks
        for block in payload:
            if isinstance(block, Message):
                yield [(str(k).lower(), " ".join(str(v).split())) for k, v in block.items()]
        return
    data = part.get_payload(decode=True)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload)
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.replace("\r\n", "\n")):
        headers = HeaderParser().parsestr(chunk.strip("\n") + "\n\n")
        yield [(str(k).lower(), " ".join(str(v).split())) for k, v in headers.items()]


def _recipient_groups(blocks: Iterable[list[tuple[str, str]]]) -> Iterator[dict[str, str]]:
    """Per-recipient field sets: a block, split again where a recipient field repeats."""
    for block in blocks:
        group: dict[str, str] = {}
        for name, value in block:
            if name in _RECIPIENT_FIELDS and name in group:
                yield group
                group = {}
            group.setdefault(name, value)
        if group:
            yield group


def _recipient(fields: dict[str, str]) -> DsnRecipient | None:
    action = re.sub(r"\(.*?\)", " ", fields.get("action", "")).split()
    verb = action[0].lower() if action else ""
    if verb not in _FAILED and verb not in _DELAYED:
        return None
    address = None
    for name in _RECIPIENT_FIELDS:  # Original-Recipient first
        address = _address(fields.get(name))
        if address is not None:
            break
    if address is None:
        return None
    code = _STATUS.search(fields.get("status", ""))
    status = code.group(0) if code else None
    return DsnRecipient(
        address=address,
        delayed=verb in _DELAYED,
        status=status,
        diagnostic=fields.get("diagnostic-code", "")[:300],
    )


def _address(value: str | None) -> str | None:
    """``rfc822; someone@example.com`` → ``someone@example.com`` (other types are refused)."""
    if not value:
        return None
    kind, separator, address = value.partition(";")
    if not separator:
        return plausible_address(value.strip())
    if kind.strip().lower() not in ("rfc822", "utf-8"):
        return None
    return plausible_address(address.strip())
