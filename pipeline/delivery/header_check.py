"""The last check before a message leaves: the header block as it will be written.

Values are validated before they are set (:mod:`subscribers.display`), but what reaches the
wire is what the interpreter's ``email`` package folds them into, and that has had bugs
(CVE-2024-6923: encoded-words decoded into raw CR/LF on 3.11 before 3.11.10). So the folded
header block is read back here, line by line, exactly as the generator will write it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import getaddresses

from pipeline.errors import ValidationError


class HeaderInjection(ValidationError):
    """The serialised message would carry headers or addresses that were never set."""


def serialised_header_block(message: EmailMessage) -> bytes:
    """The top-level header block exactly as ``BytesGenerator`` writes it."""
    return b"".join(message.policy.fold_binary(name, value) for name, value in message.raw_items())


def _logical_lines(block: bytes) -> list[str]:
    """Unfold the block: a line starting with space or tab continues the one before."""
    text = block.decode("utf-8", errors="replace")  # UTF-8 only for an SMTPUTF8 recipient
    # A lone CR or LF inside the block is a line break some reader will honour.
    if text.replace("\r\n", "").count("\r") or text.replace("\r\n", "").count("\n"):
        raise HeaderInjection("headers", "a header contains a bare line break")
    lines: list[str] = []
    for physical in text.split("\r\n"):
        if not physical:
            continue
        if physical[0] in " \t" and lines:
            lines[-1] += physical
        else:
            lines.append(physical)
    return lines


def verify_headers(message: EmailMessage, expected: Sequence[str], to_addr: str) -> None:
    """Raise :class:`HeaderInjection` unless the written headers are exactly ``expected``.

    Also checks that ``To`` names one address, ``to_addr``, and that no ``Bcc``/``Cc``
    crept in. Names compare case-insensitively, counts must match.
    """
    lines = _logical_lines(serialised_header_block(message))
    names: Counter[str] = Counter()
    to_values: list[str] = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or not name.isascii():
            raise HeaderInjection("headers", f"a header line is not 'Name: value': {line[:60]!r}")
        names[name.lower()] += 1
        if name.lower() == "to":
            to_values.append(value)
    want = Counter(name.lower() for name in expected)
    if names != want:
        extra = sorted((names - want).elements())
        missing = sorted((want - names).elements())
        raise HeaderInjection(
            "headers", f"unexpected headers {extra or '-'}, missing {missing or '-'}"
        )
    addresses = getaddresses(to_values)
    if len(addresses) != 1 or addresses[0][1].lower() != to_addr.lower():
        raise HeaderInjection("To", "the To header must name exactly the one recipient")
