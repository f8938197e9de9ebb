"""Addresses as each kind of provider API wants them: internationalised domains included.

Subscribers sign up with addresses in Unicode (``zoë@bücher.example``). Every provider gets
the domain in its ASCII (punycode, IDNA 2008/UTS 46) form, which SES requires and which
every mail system understands. A non-ASCII *local part* cannot be converted: it needs
SMTPUTF8 end to end, so adapters that cannot promise it refuse that one recipient with a
clear reason instead of failing the batch.

Display names come in two forms: header syntax (RFC 5322 quoting, RFC 2047 encoded words
for non-ASCII) for APIs that take a header-like string (Postmark, Mailgun, SES), and the
plain Unicode name for JSON APIs with a separate name field or their own encoding
(SendGrid, Resend).
"""

from __future__ import annotations

from email.utils import formataddr
from functools import lru_cache

import idna

from pipeline.delivery.message import check_header_value
from pipeline.errors import ValidationError


@lru_cache(maxsize=4096)
def ascii_domain(domain: str) -> str:
    """``domain`` in its ASCII form (punycode labels for non-ASCII ones)."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as err:
        raise ValidationError("email", f"the domain {domain!r} is not a valid IDN: {err}") from err


def ascii_email(email: str) -> str:
    """``email`` with its domain in ASCII form; the local part is left as it is."""
    local, at, domain = email.rpartition("@")
    if not at:
        raise ValidationError("email", f"{email!r} is not an email address")
    return f"{local}@{ascii_domain(domain)}"


def needs_smtputf8(email: str) -> bool:
    """True when the local part is non-ASCII: only an SMTPUTF8 path can carry it."""
    return not email.rpartition("@")[0].isascii()


def header_address(name: str | None, email: str) -> str:
    """``Name <local@ascii-domain>`` in header syntax: quoted, RFC 2047 when non-ASCII."""
    name = check_header_value("To", name or "")
    return formataddr((name, ascii_email(email)), charset="utf-8")


def plain_address(name: str | None, email: str) -> str:
    """``"Name" <local@ascii-domain>`` with the display name left in Unicode (JSON APIs)."""
    name = check_header_value("To", name or "")
    address = ascii_email(email)
    if not name:
        return address
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'
